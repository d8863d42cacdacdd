/* console_nrf_uarte.c: the console on a UARTE of an nRF52 (nRF52840 Product Specification v1.7, chapter
 * 'UARTE'): 8N1, no flow control. The UARTE moves bytes by EasyDMA, which reads and writes RAM only
 * (PS, 'EasyDMA'), so every transfer goes through a small static buffer in RAM.
 * Board-file keys: base (the UARTE), baud (one of the BAUDRATE register's table, PS UARTE 'Registers'),
 * tx_pin/rx_pin ("P0.06": port and pin). The UARTE clocks itself from HFCLK, so no clock key. */
#include <stdint.h>

#include "tinyc_board.h"
#include "tinyc_console.h"

#define REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* PS UARTE 'Registers' (offsets from the instance's base). */
#define UARTE_TASKS_STARTRX (TINYC_CONSOLE_BASE + 0x000u)
#define UARTE_TASKS_STARTTX (TINYC_CONSOLE_BASE + 0x008u)
#define UARTE_EVENTS_ENDRX (TINYC_CONSOLE_BASE + 0x110u)
#define UARTE_EVENTS_ENDTX (TINYC_CONSOLE_BASE + 0x120u)
#define UARTE_EVENTS_ERROR (TINYC_CONSOLE_BASE + 0x124u)
#define UARTE_ERRORSRC (TINYC_CONSOLE_BASE + 0x480u)   /* OVERRUN, PARITY, FRAMING, BREAK; write 1 to clear */
#define UARTE_ENABLE (TINYC_CONSOLE_BASE + 0x500u)
#define ENABLE_UARTE 8u
#define UARTE_PSEL_TXD (TINYC_CONSOLE_BASE + 0x50Cu)
#define UARTE_PSEL_RXD (TINYC_CONSOLE_BASE + 0x514u)
#define PSEL(port, pin) ((port) << 5 | (pin))           /* CONNECT (bit 31) = 0: connected */
#define UARTE_BAUDRATE (TINYC_CONSOLE_BASE + 0x524u)
#define UARTE_RXD_PTR (TINYC_CONSOLE_BASE + 0x534u)
#define UARTE_RXD_MAXCNT (TINYC_CONSOLE_BASE + 0x538u)
#define UARTE_TXD_PTR (TINYC_CONSOLE_BASE + 0x544u)
#define UARTE_TXD_MAXCNT (TINYC_CONSOLE_BASE + 0x548u)
#define UARTE_CONFIG (TINYC_CONSOLE_BASE + 0x56Cu)     /* 0: no flow control, no parity, 1 stop bit */
/* PS GPIO 'Registers': P0 at 0x50000000, P1 at 0x50000300. The UARTE wants TXD an output
 * driven high and RXD an input before it is enabled (PS UARTE 'Pin configuration'). */
#define GPIO_BASE(port) (0x50000000u + 0x300u * (port))
#define GPIO_OUTSET 0x508u
#define GPIO_PIN_CNF(pin) (0x700u + 4u * (pin))
#define PIN_OUTPUT 0x3u        /* DIR = output, INPUT = disconnect */
#define PIN_INPUT_PULL_UP 0xCu /* DIR = input, INPUT = connect, PULL = pull-up: idles high unplugged */

/* PS UARTE register BAUDRATE: the register takes a value from a table, not a divisor. These are the UARTE's
 * values (its 115200 is 0x01D60000, 115108 baud; the older UART's table has 0x01D7E000). */
#if TINYC_CONSOLE_BAUD == 9600
#define BAUDRATE_VALUE 0x00275000u
#elif TINYC_CONSOLE_BAUD == 19200
#define BAUDRATE_VALUE 0x004EA000u
#elif TINYC_CONSOLE_BAUD == 38400
#define BAUDRATE_VALUE 0x009D0000u
#elif TINYC_CONSOLE_BAUD == 57600
#define BAUDRATE_VALUE 0x00EB0000u
#elif TINYC_CONSOLE_BAUD == 115200
#define BAUDRATE_VALUE 0x01D60000u
#elif TINYC_CONSOLE_BAUD == 230400
#define BAUDRATE_VALUE 0x03B00000u
#elif TINYC_CONSOLE_BAUD == 460800
#define BAUDRATE_VALUE 0x07400000u
#elif TINYC_CONSOLE_BAUD == 921600
#define BAUDRATE_VALUE 0x0F000000u
#elif TINYC_CONSOLE_BAUD == 1000000
#define BAUDRATE_VALUE 0x10000000u
#else
#error "nrf-uarte: baud must be 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600 or 1000000"
#endif

#define CHUNK 64u  /* bytes a DMA transfer moves; the buffers below are in .bss, so in RAM */
static volatile uint8_t tx_buffer[CHUNK];
static volatile uint8_t rx_buffer[CHUNK];

void tinyc_console_init(void)
{
    REG(GPIO_BASE(TINYC_CONSOLE_TX_PORT) + GPIO_OUTSET) = 1u << TINYC_CONSOLE_TX_PIN;
    REG(GPIO_BASE(TINYC_CONSOLE_TX_PORT) + GPIO_PIN_CNF(TINYC_CONSOLE_TX_PIN)) = PIN_OUTPUT;
    REG(GPIO_BASE(TINYC_CONSOLE_RX_PORT) + GPIO_PIN_CNF(TINYC_CONSOLE_RX_PIN)) = PIN_INPUT_PULL_UP;
    REG(UARTE_PSEL_TXD) = PSEL(TINYC_CONSOLE_TX_PORT, TINYC_CONSOLE_TX_PIN);
    REG(UARTE_PSEL_RXD) = PSEL(TINYC_CONSOLE_RX_PORT, TINYC_CONSOLE_RX_PIN);
    REG(UARTE_BAUDRATE) = BAUDRATE_VALUE;
    REG(UARTE_CONFIG) = 0u;
    REG(UARTE_ENABLE) = ENABLE_UARTE;
}

void tinyc_console_write(const void *data, size_t len)
{
    const uint8_t *bytes = data;
    while (len > 0) {
        size_t n = len < CHUNK ? len : CHUNK;
        for (size_t i = 0; i < n; i++) {
            tx_buffer[i] = bytes[i];
        }
        REG(UARTE_TXD_PTR) = (uint32_t)(uintptr_t)tx_buffer;
        REG(UARTE_TXD_MAXCNT) = n;
        REG(UARTE_EVENTS_ENDTX) = 0u;
        REG(UARTE_TASKS_STARTTX) = 1u;
        while (REG(UARTE_EVENTS_ENDTX) == 0u) {
        }
        bytes += n;
        len -= n;
    }
}

int tinyc_console_read(void *data, size_t len)
{
    uint8_t *bytes = data;
    while (len > 0) {
        size_t n = len < CHUNK ? len : CHUNK;
        REG(UARTE_RXD_PTR) = (uint32_t)(uintptr_t)rx_buffer;
        REG(UARTE_RXD_MAXCNT) = n;
        REG(UARTE_EVENTS_ENDRX) = 0u;
        REG(UARTE_TASKS_STARTRX) = 1u;
        while (REG(UARTE_EVENTS_ENDRX) == 0u) {
        }
        /* The receiver keeps running, and bytes that come before the next STARTRX wait in its RX FIFO.
         * An overrun only drops bytes: clear it so the next one reports afresh. */
        if (REG(UARTE_EVENTS_ERROR) != 0u) {
            REG(UARTE_ERRORSRC) = REG(UARTE_ERRORSRC);
            REG(UARTE_EVENTS_ERROR) = 0u;
        }
        for (size_t i = 0; i < n; i++) {
            bytes[i] = rx_buffer[i];
        }
        bytes += n;
        len -= n;
    }
    return 0;
}
