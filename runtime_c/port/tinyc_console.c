/* tinyc_console.c: see tinyc_console.h. Text goes to the board's console driver; in the QEMU test
 * harness (TINYC_SEMIHOSTING_ALWAYS) to semihosting instead, since QEMU runs it with -serial none. */
#include "tinyc_console.h"

#include <string.h>

#include "tinyc_semihost.h"

#define DHCSR (*(volatile uint32_t *)0xE000EDF0u)  /* Debug Halting Control and Status (Armv7-M ARM, C1.6.2) */
#define DHCSR_C_DEBUGEN 1u

void tinyc_print(const char *text)
{
#if defined(TINYC_SEMIHOSTING_ALWAYS)
    tinyc_sh_print(text);
#else
    tinyc_console_write(text, strlen(text));
#endif
}

void tinyc_print_u64(uint64_t value)
{
    char digits[21];
    int i = 20;
    digits[i] = '\0';
    do {
        digits[--i] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    tinyc_print(&digits[i]);
}

void tinyc_print_tenths(uint64_t tenths)
{
    char decimal[3] = {'.', '0', '\0'};
    decimal[1] = (char)('0' + tenths % 10u);
    tinyc_print_u64(tenths / 10u);
    tinyc_print(decimal);
}

int tinyc_debugger_attached(void)
{
    return (DHCSR & DHCSR_C_DEBUGEN) != 0u;
}

void tinyc_stop(int status)
{
#if defined(TINYC_SEMIHOSTING_ALWAYS)
    tinyc_sh_exit(status);
#else
    (void)status;  /* on a board nobody waits for an exit status: halt here, interrupts off */
    __asm__ volatile("cpsid i" ::: "memory");
    for (;;) {
        __asm__ volatile("wfi");
    }
#endif
}
