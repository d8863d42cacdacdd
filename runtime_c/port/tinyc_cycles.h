/* tinyc_cycles.h: the core's cycle count for timing an inference on a board. The DWT cycle counter
 * where the core has one (Cortex-M3/M4/M7/M33/M55) and it runs; otherwise SysTick on the processor
 * clock (the Cortex-M0+, which has no CYCCNT, and QEMU, which does not emulate the DWT: there, with
 * -icount, SysTick ticks are emulated time, a fixed number of instructions each, never cycles). */
#ifndef TINYC_CYCLES_H
#define TINYC_CYCLES_H

#include <stdint.h>

void tinyc_cycles_start(void);
uint32_t tinyc_cycles_now(void);       /* differences of two readings are exact below 2^32 cycles */
const char *tinyc_cycles_source(void); /* "DWT" or "SysTick" */

#endif /* TINYC_CYCLES_H */
