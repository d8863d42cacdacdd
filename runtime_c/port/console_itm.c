/* console_itm.c: the console on ITM stimulus port 0, which the debug probe reads as SWO (Armv7-M
 * Architecture Reference Manual, C1.7). The debugger enables the ITM and sets SWO's baud rate; while
 * it has not (TCR.ITMENA or TER bit 0 clear) output is dropped. ITM cannot receive. */
#include "tinyc_board.h"
#include "tinyc_console.h"

#define ITM_STIM0 (*(volatile uint32_t *)0xE0000000u)
#define ITM_TER (*(volatile uint32_t *)0xE0000E00u)
#define ITM_TCR (*(volatile uint32_t *)0xE0000E80u)
#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)

void tinyc_console_init(void)
{
    DEMCR |= DEMCR_TRCENA;
}

void tinyc_console_write(const void *data, size_t len)
{
    const uint8_t *bytes = (const uint8_t *)data;
    size_t i;
    if (!(ITM_TCR & 1u) || !(ITM_TER & 1u)) {
        return;
    }
    for (i = 0; i < len; i++) {
        while (ITM_STIM0 == 0u) {  /* reads 0 while the port's FIFO is full */
        }
        *(volatile uint8_t *)&ITM_STIM0 = bytes[i];
    }
}

int tinyc_console_read(void *data, size_t len)
{
    (void)data;
    (void)len;
    return -1;
}
