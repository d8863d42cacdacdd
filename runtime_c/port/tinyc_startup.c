/* tinyc_startup.c: the vector table and reset handler for a bare-metal Cortex-M firmware.
 * Enables the FPU when the build uses it, copies .data from flash, zeroes .bss, paints the
 * stack (so its high-water mark can be measured), calls main and stops (tinyc_stop: the QEMU harness
 * exits through semihosting; a board's firmware halts). A fault prints its exception number. */
#include <stdint.h>
#include <string.h>

#include "tinyc_console.h"

#define STACK_PAINT 0x5AA55AA5u

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;
extern uint32_t __stack_limit, __stack_top;

int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void SysTick_Handler(void);

void Default_Handler(void)
{
    uint32_t exception;
    __asm__ volatile("mrs %0, ipsr" : "=r"(exception));
    tinyc_print("tinyc: fault: exception ");
    tinyc_print_u64(exception & 0x1FFu);  /* 3 HardFault, 4 MemManage, 5 BusFault, 6 UsageFault */
    tinyc_print("\n");
    tinyc_stop(3);
}

typedef void (*tinyc_vector)(void);

__attribute__((section(".vectors"), used)) static const tinyc_vector tinyc_vectors[16] = {
    (tinyc_vector)(uintptr_t)&__stack_top, /* initial stack pointer */
    Reset_Handler,   Default_Handler, /* NMI */ Default_Handler, /* HardFault */
    Default_Handler, /* MemManage */ Default_Handler, /* BusFault */ Default_Handler, /* UsageFault */
    0, 0, 0, 0,      Default_Handler, /* SVCall */ Default_Handler, /* DebugMon */ 0,
    Default_Handler, /* PendSV */ SysTick_Handler,
};

/* Bytes of stack used since reset: the painted words that were overwritten. */
uint32_t tinyc_stack_used(void);
uint32_t tinyc_stack_used(void)
{
    const uint32_t *p = &__stack_limit;
    while (p < &__stack_top && *p == STACK_PAINT) {
        p++;
    }
    return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)p);
}

__attribute__((noreturn)) void Reset_Handler(void)
{
    uint32_t *p;
#if defined(__ARM_FP)
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: full access to CP10 and CP11 */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    memcpy(&__data_start, &__data_load, (size_t)((uintptr_t)&__data_end - (uintptr_t)&__data_start));
    memset(&__bss_start, 0, (size_t)((uintptr_t)&__bss_end - (uintptr_t)&__bss_start));
    /* paint up to just below this function's own frame */
    for (p = &__stack_limit; (uintptr_t)p < (uintptr_t)&p - 64u; p++) {
        *p = STACK_PAINT;
    }
    tinyc_stop(main());
    for (;;) {
    }
}
