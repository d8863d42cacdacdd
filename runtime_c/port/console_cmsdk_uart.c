/* console_cmsdk_uart.c: the Arm CMSDK APB UART (Cortex-M System Design Kit Technical Reference
 * Manual, DDI 0479, 4.3), UART0 of the MPS2 and MPS3 FPGA images; QEMU emulates it (-serial). */
#include "tinyc_board.h"
#include "tinyc_console.h"

#define UART_REG(offset) (*(volatile uint32_t *)(TINYC_CONSOLE_BASE + (offset)))
#define UART_DATA UART_REG(0x00u)
#define UART_STATE UART_REG(0x04u)     /* bit 0 TX buffer full, bit 1 RX buffer full, 2-3 overruns */
#define UART_CTRL UART_REG(0x08u)      /* bit 0 TX enable, bit 1 RX enable */
#define UART_BAUDDIV UART_REG(0x10u)   /* clock / baud, at least 16 */

#define STATE_TX_FULL 1u
#define STATE_RX_FULL 2u
#define STATE_OVERRUNS 0xCu            /* write 1 to clear */

void tinyc_console_init(void)
{
    UART_BAUDDIV = TINYC_CONSOLE_CLOCK_HZ / TINYC_CONSOLE_BAUD;
    UART_CTRL = 3u;
}

void tinyc_console_write(const void *data, size_t len)
{
    const uint8_t *bytes = (const uint8_t *)data;
    size_t i;
    for (i = 0; i < len; i++) {
        while (UART_STATE & STATE_TX_FULL) {
        }
        UART_DATA = bytes[i];
    }
}

int tinyc_console_read(void *data, size_t len)
{
    uint8_t *bytes = (uint8_t *)data;
    size_t i;
    for (i = 0; i < len; i++) {
        while (!(UART_STATE & STATE_RX_FULL)) {
            if (UART_STATE & STATE_OVERRUNS) {
                UART_STATE = STATE_OVERRUNS;
            }
        }
        bytes[i] = (uint8_t)UART_DATA;
    }
    return 0;
}
