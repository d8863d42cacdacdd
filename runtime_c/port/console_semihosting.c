/* console_semihosting.c: the console through a debugger's semihosting. Without a debugger attached
 * (DHCSR.C_DEBUGEN clear) a semihosting call would escalate to a HardFault, so output is dropped and
 * the firmware never executes `bkpt`. */
#include "tinyc_board.h"
#include "tinyc_console.h"
#include "tinyc_semihost.h"

void tinyc_console_init(void)
{
}

void tinyc_console_write(const void *data, size_t len)
{
    static int console = -1;  /* ":tt" opened once */
    if (!tinyc_debugger_attached()) {
        return;
    }
    if (console < 0) {
        console = tinyc_sh_open(":tt", TINYC_SH_WRITE);
    }
    (void)tinyc_sh_write(console, data, len);
}

int tinyc_console_read(void *data, size_t len)
{
    static int input = -1;  /* ":tt" for reading: the debugger's console */
    if (!tinyc_debugger_attached()) {
        return -1;
    }
    if (input < 0) {
        input = tinyc_sh_open(":tt", TINYC_SH_READ);
    }
    return tinyc_sh_read(input, data, len) == len ? 0 : -1;
}
