/* tinyc_semihost.c: see tinyc_semihost.h. Operation numbers from Arm's semihosting specification. */
#include "tinyc_semihost.h"

#include <string.h>

enum {
    SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE = 0x05, SYS_READ = 0x06, SYS_FLEN = 0x0C, SYS_EXIT_EXTENDED = 0x20
};
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static int tinyc_sh_call(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int tinyc_sh_open(const char *path, int mode)
{
    uintptr_t args[3];
    args[0] = (uintptr_t)path;
    args[1] = (uintptr_t)mode;
    args[2] = (uintptr_t)strlen(path);
    return tinyc_sh_call(SYS_OPEN, args);
}

long tinyc_sh_length(int handle)
{
    uintptr_t args[1];
    args[0] = (uintptr_t)handle;
    return tinyc_sh_call(SYS_FLEN, args);
}

size_t tinyc_sh_read(int handle, void *buf, size_t len)
{
    uintptr_t args[3];
    args[0] = (uintptr_t)handle;
    args[1] = (uintptr_t)buf;
    args[2] = (uintptr_t)len;
    return len - (size_t)tinyc_sh_call(SYS_READ, args);  /* SYS_READ returns the bytes NOT read */
}

size_t tinyc_sh_write(int handle, const void *buf, size_t len)
{
    uintptr_t args[3];
    args[0] = (uintptr_t)handle;
    args[1] = (uintptr_t)buf;
    args[2] = (uintptr_t)len;
    return len - (size_t)tinyc_sh_call(SYS_WRITE, args);  /* returns the bytes NOT written */
}

void tinyc_sh_close(int handle)
{
    uintptr_t args[1];
    args[0] = (uintptr_t)handle;
    (void)tinyc_sh_call(SYS_CLOSE, args);
}

void tinyc_sh_print(const char *text)
{
    static int console = -1;  /* ":tt" opened once; writing to handle 1 unopened prints nothing */
    if (console < 0) {
        console = tinyc_sh_open(":tt", TINYC_SH_WRITE);
    }
    (void)tinyc_sh_write(console, text, strlen(text));
}

void tinyc_sh_exit(int status)
{
    uintptr_t args[2];
    args[0] = ADP_STOPPED_APPLICATION_EXIT;
    args[1] = (uintptr_t)status;  /* QEMU exits with this status */
    (void)tinyc_sh_call(SYS_EXIT_EXTENDED, args);  /* {reason, status} block */
    for (;;) {
    }
}
