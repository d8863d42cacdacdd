/* tinyc_semihost.h: ARM semihosting (bkpt 0xAB), the firmware's console and file I/O through a
 * debugger or QEMU (-semihosting). Calls stop the core when no debugger is attached. */
#ifndef TINYC_SEMIHOST_H
#define TINYC_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

enum { TINYC_SH_READ = 0, TINYC_SH_WRITE = 4 };  /* SYS_OPEN modes "rb" and "wb" */

int tinyc_sh_open(const char *path, int mode);    /* handle, or -1 */
long tinyc_sh_length(int handle);                 /* bytes in the file, or -1 */
size_t tinyc_sh_read(int handle, void *buf, size_t len);         /* bytes read */
size_t tinyc_sh_write(int handle, const void *buf, size_t len);  /* bytes written */
void tinyc_sh_close(int handle);
void tinyc_sh_print(const char *text);            /* to the console (":tt") */
void tinyc_sh_exit(int status);                   /* ends the QEMU run with this exit status */

#endif /* TINYC_SEMIHOST_H */
