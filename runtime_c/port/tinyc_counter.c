/* tinyc_counter.c: see tinyc_counter.h. */
#include "tinyc_counter.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_RELOAD 0xFFFFFFu

static volatile uint32_t tinyc_counter_wraps;

void SysTick_Handler(void);
void SysTick_Handler(void)
{
    tinyc_counter_wraps++;
}

void tinyc_counter_start(void)
{
    SYST_RVR = SYST_RELOAD;
    SYST_CVR = 0u;
    SYST_CSR = 7u;  /* enable, interrupt on wrap, processor clock */
    while (SYST_CVR == 0u) {
        /* the current value reads 0 until the first reload */
    }
}

uint64_t tinyc_counter_ticks(void)
{
    uint32_t wraps, value;
    do {
        wraps = tinyc_counter_wraps;
        value = SYST_CVR;
    } while (wraps != tinyc_counter_wraps);
    return (uint64_t)wraps * (SYST_RELOAD + 1u) + (SYST_RELOAD - value);
}
