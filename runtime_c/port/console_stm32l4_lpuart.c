/* console_stm32l4_lpuart.c: the console on LPUART1 of an STM32L4/L4+ (RM0432, STM32L4R5): 8N1, no
 * flow control, FIFO off, polled. LPUART1 is the ST-LINK virtual COM port of the Nucleo-144 L4 boards.
 * Board-file keys: base (LPUART1), baud, clock_hz (its kernel clock right after reset: RCC_CCIPR
 * LPUART1SEL resets to PCLK1, which is the 4 MHz MSI with every prescaler at 1; RM0432 6.2 (clocks)
 * and 6.4 (RCC registers)), tx_pin/rx_pin and af (their alternate function, from the datasheet's AF
 * table). There is one LPUART1, so its clock-enable bit is a constant here, as are the GPIO ports. */
#include <stdint.h>

#include "tinyc_board.h"
#include "tinyc_console.h"

#define REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* RM0432 2.2.2 (memory map) and 6.4 (RCC registers): RCC at 0x40021000. */
#define RCC_AHB2ENR 0x4002104Cu    /* GPIOxEN = bit x */
#define RCC_APB1ENR1 0x40021058u
#define APB1ENR1_PWREN (1u << 28)
#define RCC_APB1ENR2 0x4002105Cu
#define APB1ENR2_LPUART1EN (1u << 0)
/* RM0432 5.4 (PWR registers): PWR at 0x40007000. Port G's pins PG2..PG15 are powered by VDDIO2, and
 * stay isolated until PWR_CR2.IOSV says VDDIO2 is valid (RM0432 5.1, 'Independent I/O supply rail');
 * the Nucleo ties VDDIO2 to VDD. */
#define PWR_CR2 0x40007004u
#define CR2_IOSV (1u << 9)
#define PORT_G 6u
/* RM0432 memory map: GPIOA at 0x48000000, one port every 0x400. RM0432 8.5: GPIO registers. */
#define GPIO_BASE(port) (0x48000000u + 0x400u * (port))
#define GPIO_MODER 0x00u
#define GPIO_PUPDR 0x0Cu
#define GPIO_AFRL 0x20u   /* AFRH follows at 0x24 */
#define MODER_AF 2u
#define PUPDR_PULL_UP 1u
/* RM0432 LPUART chapter, 'LPUART registers': CR1 0x00, BRR 0x0C, ISR 0x1C, ICR 0x20, RDR 0x24, TDR 0x28. */
#define LPUART_CR1 (TINYC_CONSOLE_BASE + 0x00u)
#define LPUART_BRR (TINYC_CONSOLE_BASE + 0x0Cu)
#define LPUART_ISR (TINYC_CONSOLE_BASE + 0x1Cu)
#define LPUART_ICR (TINYC_CONSOLE_BASE + 0x20u)
#define LPUART_RDR (TINYC_CONSOLE_BASE + 0x24u)
#define LPUART_TDR (TINYC_CONSOLE_BASE + 0x28u)
#define CR1_UE (1u << 0)
#define CR1_RE (1u << 2)
#define CR1_TE (1u << 3)
#define ISR_ERRORS 0xFu   /* PE, FE, NE, ORE (bits 0..3); ICR clears them at the same bits */
#define ISR_RXNE (1u << 5)
#define ISR_TXE (1u << 7)

/* RM0432 LPUART chapter, 'LPUART baud rate generation': baud = 256 * clock / BRR, so
 * BRR = 256 * clock / baud, rounded; BRR must be 0x300 or more and fits 20 bits. */
#define BRR_VALUE ((256ull * TINYC_CONSOLE_CLOCK_HZ + TINYC_CONSOLE_BAUD / 2u) / TINYC_CONSOLE_BAUD)
#if BRR_VALUE < 0x300u || BRR_VALUE > 0xFFFFFu
#error "stm32l4-lpuart: 256 * clock_hz / baud must be 0x300 to 0xFFFFF (RM0432, LPUART baud rate generation)"
#endif
#if TINYC_CONSOLE_AF > 15u
#error "stm32l4-lpuart: af is 0 to 15"
#endif

static void pin_alternate(uint32_t port, uint32_t pin, uint32_t pull)
{
    uint32_t gpio = GPIO_BASE(port);
    uint32_t afr = gpio + GPIO_AFRL + 4u * (pin / 8u);
    REG(RCC_AHB2ENR) |= 1u << port;
    (void)REG(RCC_AHB2ENR);  /* the clock is on before the port is touched */
    REG(afr) = (REG(afr) & ~(15u << 4u * (pin % 8u))) | (TINYC_CONSOLE_AF << 4u * (pin % 8u));
    REG(gpio + GPIO_PUPDR) = (REG(gpio + GPIO_PUPDR) & ~(3u << 2u * pin)) | (pull << 2u * pin);
    REG(gpio + GPIO_MODER) = (REG(gpio + GPIO_MODER) & ~(3u << 2u * pin)) | (MODER_AF << 2u * pin);
}

void tinyc_console_init(void)
{
    if (TINYC_CONSOLE_TX_PORT == PORT_G || TINYC_CONSOLE_RX_PORT == PORT_G) {
        REG(RCC_APB1ENR1) |= APB1ENR1_PWREN;
        (void)REG(RCC_APB1ENR1);
        REG(PWR_CR2) |= CR2_IOSV;
    }
    REG(RCC_APB1ENR2) |= APB1ENR2_LPUART1EN;
    (void)REG(RCC_APB1ENR2);
    pin_alternate(TINYC_CONSOLE_TX_PORT, TINYC_CONSOLE_TX_PIN, 0u);
    pin_alternate(TINYC_CONSOLE_RX_PORT, TINYC_CONSOLE_RX_PIN, PUPDR_PULL_UP);  /* idles high unplugged */
    REG(LPUART_BRR) = (uint32_t)BRR_VALUE;  /* BRR is written while UE is 0 */
    REG(LPUART_CR1) = CR1_UE | CR1_TE | CR1_RE;  /* 8 data bits, no parity, FIFO off; CR2/CR3 stay at reset */
}

void tinyc_console_write(const void *data, size_t len)
{
    const uint8_t *bytes = data;
    for (size_t i = 0; i < len; i++) {
        while (!(REG(LPUART_ISR) & ISR_TXE)) {
        }
        REG(LPUART_TDR) = bytes[i];
    }
}

int tinyc_console_read(void *data, size_t len)
{
    uint8_t *bytes = data;
    for (size_t i = 0; i < len; i++) {
        uint32_t isr;
        while (!((isr = REG(LPUART_ISR)) & ISR_RXNE)) {
            if (isr & ISR_ERRORS) {
                REG(LPUART_ICR) = isr & ISR_ERRORS;  /* an overrun stays set until cleared here */
            }
        }
        bytes[i] = (uint8_t)REG(LPUART_RDR);
        if (isr & ISR_ERRORS) {
            REG(LPUART_ICR) = isr & ISR_ERRORS;
        }
    }
    return 0;
}
