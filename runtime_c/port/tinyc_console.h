/* tinyc_console.h: the firmware's console, the way the board file's [console] names it: a UART,
 * ITM (SWO) or semihosting. port/ holds exactly one driver, console_KIND.c, configured by the
 * TINYC_CONSOLE_* macros of port/tinyc_board.h (generated from the board file). The QEMU test
 * harness builds with TINYC_SEMIHOSTING_ALWAYS: its console is then semihosting, whatever the board. */
#ifndef TINYC_CONSOLE_H
#define TINYC_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

/* The driver (console_KIND.c). */
void tinyc_console_init(void);                        /* clocks, pins, baud rate */
void tinyc_console_write(const void *data, size_t len);
int tinyc_console_read(void *data, size_t len);       /* blocks for len bytes: 0, or -1 if it cannot receive */

/* Text on top of it (tinyc_console.c). */
void tinyc_print(const char *text);
void tinyc_print_u64(uint64_t value);
void tinyc_print_tenths(uint64_t tenths);             /* 12345 -> "1234.5" */
int tinyc_debugger_attached(void);                    /* DHCSR.C_DEBUGEN: a debugger holds the core */
void tinyc_stop(int status);                          /* the end: exit QEMU in the harness, else halt here */

#endif /* TINYC_CONSOLE_H */
