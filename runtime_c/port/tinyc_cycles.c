/* tinyc_cycles.c: see tinyc_cycles.h. Registers from the Armv7-M Architecture Reference Manual
 * (DDI 0403E, C1.6.5 DEMCR, C1.8.7 DWT_CTRL and DWT_CYCCNT). */
#include "tinyc_cycles.h"

#include "tinyc_counter.h"

#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define DWT_CTRL_CYCCNTENA 1u
#define DWT_CTRL_NOCYCCNT (1u << 25)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)

static int tinyc_use_dwt;

void tinyc_cycles_start(void)
{
#if !defined(__ARM_ARCH_6M__)
    DEMCR |= DEMCR_TRCENA;
    if (!(DWT_CTRL & DWT_CTRL_NOCYCCNT)) {
        uint32_t first;
        DWT_CYCCNT = 0u;
        DWT_CTRL |= DWT_CTRL_CYCCNTENA;
        first = DWT_CYCCNT;
        __asm__ volatile("nop\n\tnop\n\tnop\n\tnop" ::: "memory");
        tinyc_use_dwt = DWT_CYCCNT != first;  /* QEMU reads the DWT as zeros */
    }
#endif
    if (!tinyc_use_dwt) {
        tinyc_counter_start();
    }
}

uint32_t tinyc_cycles_now(void)
{
    return tinyc_use_dwt ? DWT_CYCCNT : (uint32_t)tinyc_counter_ticks();
}

const char *tinyc_cycles_source(void)
{
    return tinyc_use_dwt ? "DWT" : "SysTick";
}
