/* console_rp2040_uart.c: the console on an RP2040 PL011 UART (UART0 or UART1), polled, 8N1.
 * After reset clk_sys runs from the ring oscillator and clk_peri (the UART's clock) is off, so
 * init starts the crystal oscillator (XOSC) and clocks clk_peri from it: the baud rate divisor then
 * follows from TINYC_CONSOLE_CLOCK_HZ, the crystal's frequency (12 MHz on the Pico), at compile time.
 * It also moves clk_ref, and with it clk_sys, onto the crystal: the ring oscillator's frequency varies
 * from chip to chip, the crystal's does not, so the firmware's cycles convert to time
 * (the board file's boot_clock_hz).
 * Registers: RP2040 Datasheet, the sections named at each block; the set,
 * clear and XOR aliases of every peripheral register are in 2.1.2 (atomic register access). */
#include <stdint.h>

#include "tinyc_board.h"
#include "tinyc_console.h"

#define REG(address) (*(volatile uint32_t *)(address))
#define ALIAS_SET 0x2000u  /* 2.1.2: writes set the bits that are 1 */
#define ALIAS_CLR 0x3000u  /* 2.1.2: writes clear the bits that are 1 */

/* RESETS (2.14, list of registers): a peripheral held in reset ignores writes. */
#define RESETS_BASE 0x4000c000u
#define RESETS_RESET (RESETS_BASE + 0x00u)
#define RESETS_RESET_DONE (RESETS_BASE + 0x08u)
#define RESET_IO_BANK0 (1u << 5)
#define RESET_PADS_BANK0 (1u << 8)
#define RESET_UART0 (1u << 22)
#define RESET_UART1 (1u << 23)

/* XOSC (2.16, list of registers) */
#define XOSC_BASE 0x40024000u
#define XOSC_CTRL (XOSC_BASE + 0x00u)
#define XOSC_STATUS (XOSC_BASE + 0x04u)
#define XOSC_STARTUP (XOSC_BASE + 0x0cu)
#define XOSC_CTRL_FREQ_RANGE_1_15MHZ 0xaa0u  /* FREQ_RANGE [11:0]: crystals of 1 to 15 MHz */
#define XOSC_CTRL_ENABLE (0xfabu << 12)      /* ENABLE [23:12]: the code that starts it */
#define XOSC_STATUS_STABLE (1u << 31)
/* STARTUP.DELAY [13:0]: the wait before STABLE, in units of 256 XOSC cycles; 2.16.3 asks for at
 * least 1 ms: ceil(clock_hz / 1000 / 256) */
#define XOSC_STARTUP_DELAY ((TINYC_CONSOLE_CLOCK_HZ / 1000u + 255u) / 256u)

/* CLOCKS (2.15, list of registers): CLK_PERI_CTRL, the UART's UARTCLK */
#define CLOCKS_BASE 0x40008000u
#define CLK_REF_CTRL (CLOCKS_BASE + 0x30u)
#define CLK_REF_SELECTED (CLOCKS_BASE + 0x38u)
#define CLK_REF_CTRL_SRC_XOSC 2u  /* SRC [1:0] = xosc_clksrc, a glitchless switch */
#define CLK_REF_SELECTED_XOSC (1u << 2)  /* one-hot of SRC */
#define CLK_PERI_CTRL (CLOCKS_BASE + 0x48u)
#define CLK_PERI_CTRL_AUXSRC_XOSC (4u << 5)  /* AUXSRC [7:5] = xosc_clksrc; change only while disabled */
#define CLK_PERI_CTRL_ENABLE (1u << 11)

/* IO_BANK0 (2.19.6.1) GPIOn_CTRL at 8n + 4, FUNCSEL [4:0]; function 2 is UART on every pin that has
 * one (2.19.2, function select table). PADS_BANK0 (2.19.6.3) GPIOn at 4n + 4. */
#define IO_BANK0_BASE 0x40014000u
#define GPIO_CTRL(pin) (IO_BANK0_BASE + 8u * (pin) + 4u)
#define GPIO_FUNC_UART 2u
#define PADS_BANK0_BASE 0x4001c000u
#define PAD(pin) (PADS_BANK0_BASE + 4u * (pin) + 4u)
#define PAD_OD (1u << 7)   /* output disable */
#define PAD_IE (1u << 6)   /* input enable */
#define PAD_PUE (1u << 3)  /* pull-up: RX idles high with nothing connected */
#define PAD_PDE (1u << 2)  /* pull-down */

/* UART, an Arm PL011 (4.2, list of registers) */
#define UART_BASE TINYC_CONSOLE_BASE
#define UART_DR (UART_BASE + 0x000u)
#define UART_FR (UART_BASE + 0x018u)
#define UART_IBRD (UART_BASE + 0x024u)
#define UART_FBRD (UART_BASE + 0x028u)
#define UART_LCR_H (UART_BASE + 0x02cu)
#define UART_CR (UART_BASE + 0x030u)
#define UART_FR_TXFF (1u << 5)  /* transmit FIFO full */
#define UART_FR_RXFE (1u << 4)  /* receive FIFO empty */
#define UART_FR_BUSY (1u << 3)  /* still sending */
#define UART_LCR_H_WLEN_8 (3u << 5)
#define UART_LCR_H_FEN (1u << 4)  /* FIFOs on; no parity (PEN 0), one stop bit (STP2 0) */
#define UART_CR_UARTEN (1u << 0)
#define UART_CR_TXE (1u << 8)
#define UART_CR_RXE (1u << 9)

#if TINYC_CONSOLE_BASE == 0x40034000u
#define RESET_UART RESET_UART0
#elif TINYC_CONSOLE_BASE == 0x40038000u
#define RESET_UART RESET_UART1
#else
#error "console.base: the RP2040's UARTs are UART0 at 0x40034000 and UART1 at 0x40038000"
#endif
#if TINYC_CONSOLE_CLOCK_HZ < 1000000u || TINYC_CONSOLE_CLOCK_HZ > 15000000u
#error "console.clock_hz: the XOSC takes crystals of 1 to 15 MHz (RP2040 Datasheet 2.16)"
#endif

/* Baud rate divisor = UARTCLK / (16 * baud), 16 integer and 6 fractional bits (4.2, fractional
 * baud rate divider): in 64ths, rounded to nearest, a carry out of the fraction goes into IBRD. */
#define UART_DIVISOR_64THS ((4u * TINYC_CONSOLE_CLOCK_HZ + TINYC_CONSOLE_BAUD / 2u) / TINYC_CONSOLE_BAUD)
#define UART_IBRD_VALUE (UART_DIVISOR_64THS >> 6)
#define UART_FBRD_VALUE (UART_DIVISOR_64THS & 0x3fu)
#if UART_IBRD_VALUE < 1u || UART_IBRD_VALUE > 0xffffu
#error "console.baud: out of the PL011's range at console.clock_hz"
#endif

void tinyc_console_init(void)
{
    uint32_t peripherals = RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART;
    REG(RESETS_RESET + ALIAS_CLR) = peripherals;
    while ((REG(RESETS_RESET_DONE) & peripherals) != peripherals) {
    }

    REG(XOSC_STARTUP) = XOSC_STARTUP_DELAY;
    REG(XOSC_CTRL) = XOSC_CTRL_FREQ_RANGE_1_15MHZ | XOSC_CTRL_ENABLE;
    while ((REG(XOSC_STATUS) & XOSC_STATUS_STABLE) == 0u) {
    }
    REG(CLK_REF_CTRL) = CLK_REF_CTRL_SRC_XOSC;  /* clk_sys follows clk_ref since reset (CLK_SYS_CTRL.SRC 0) */
    while ((REG(CLK_REF_SELECTED) & CLK_REF_SELECTED_XOSC) == 0u) {
    }
    REG(CLK_PERI_CTRL) = CLK_PERI_CTRL_AUXSRC_XOSC;  /* off since reset: pick the source first */
    REG(CLK_PERI_CTRL + ALIAS_SET) = CLK_PERI_CTRL_ENABLE;

    REG(PAD(TINYC_CONSOLE_TX_PIN) + ALIAS_CLR) = PAD_OD;
    REG(PAD(TINYC_CONSOLE_RX_PIN) + ALIAS_CLR) = PAD_PDE;
    REG(PAD(TINYC_CONSOLE_RX_PIN) + ALIAS_SET) = PAD_IE | PAD_PUE;
    REG(GPIO_CTRL(TINYC_CONSOLE_TX_PIN)) = GPIO_FUNC_UART;
    REG(GPIO_CTRL(TINYC_CONSOLE_RX_PIN)) = GPIO_FUNC_UART;

    REG(UART_IBRD) = UART_IBRD_VALUE;
    REG(UART_FBRD) = UART_FBRD_VALUE;
    REG(UART_LCR_H) = UART_LCR_H_WLEN_8 | UART_LCR_H_FEN;  /* this write also latches IBRD and FBRD */
    REG(UART_CR) = UART_CR_UARTEN | UART_CR_TXE | UART_CR_RXE;
}

void tinyc_console_write(const void *data, size_t len)
{
    const uint8_t *bytes = (const uint8_t *)data;
    size_t i;
    for (i = 0; i < len; i++) {
        while (REG(UART_FR) & UART_FR_TXFF) {
        }
        REG(UART_DR) = bytes[i];
    }
    while (REG(UART_FR) & UART_FR_BUSY) {  /* all out on the wire before the caller goes on */
    }
}

int tinyc_console_read(void *data, size_t len)
{
    uint8_t *bytes = (uint8_t *)data;
    size_t i;
    for (i = 0; i < len; i++) {
        while (REG(UART_FR) & UART_FR_RXFE) {
        }
        bytes[i] = (uint8_t)REG(UART_DR);  /* bits 11:8 are error flags, not data */
    }
    return 0;
}
