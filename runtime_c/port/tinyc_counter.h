/* tinyc_counter.h: a 64-bit SysTick counter (core clock, 24-bit reload, wraps counted by the
 * SysTick interrupt). Under QEMU with -icount shift=0 guest time advances one nanosecond per
 * instruction, so ticks convert to an exact, repeatable instruction count (never cycles). */
#ifndef TINYC_COUNTER_H
#define TINYC_COUNTER_H

#include <stdint.h>

void tinyc_counter_start(void);
uint64_t tinyc_counter_ticks(void);

#endif /* TINYC_COUNTER_H */
