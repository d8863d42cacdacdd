/* console_stm32f4_usart.c: the console on a USART of an STM32F4 (RM0390, STM32F446; the F4 USART
 * with SR/DR, as on F2/F4): 8N1, no flow control, polled.
 * Board-file keys: base (the USART), baud, clock_hz (its APB clock right after reset: the 16 MHz HSI,
 * AHB and APB prescalers 1, RM0390 6.2 (clocks) and RCC_CFGR's reset value), tx_pin/rx_pin and af (their alternate function,
 * from the datasheet's AF table), rcc_enable_reg/rcc_enable_bit (the USART's RCC_APBxENR clock bit).
 * The GPIO ports sit at fixed places for the whole family, so their addresses are constants here. */
#include <stdint.h>

#include "tinyc_board.h"
#include "tinyc_console.h"

#define REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* RM0390 2.2.2 (memory map) and 6.3.10: RCC at 0x40023800, RCC_AHB1ENR at +0x30, GPIOxEN = bit x. */
#define RCC_AHB1ENR 0x40023830u
/* RM0390 2.2.2: GPIOA at 0x40020000, one port every 0x400. RM0390 7.4 (GPIO registers): MODER, PUPDR, AFRL/AFRH. */
#define GPIO_BASE(port) (0x40020000u + 0x400u * (port))
#define GPIO_MODER 0x00u
#define GPIO_PUPDR 0x0Cu
#define GPIO_AFRL 0x20u   /* AFRH follows at 0x24 */
#define MODER_AF 2u
#define PUPDR_PULL_UP 1u
/* RM0390 USART chapter, 'USART registers' (SR, DR, BRR, CR1 at 0x00..0x0C). */
#define USART_SR (TINYC_CONSOLE_BASE + 0x00u)
#define USART_DR (TINYC_CONSOLE_BASE + 0x04u)
#define USART_BRR (TINYC_CONSOLE_BASE + 0x08u)
#define USART_CR1 (TINYC_CONSOLE_BASE + 0x0Cu)
#define SR_ORE (1u << 3)
#define SR_RXNE (1u << 5)
#define SR_TXE (1u << 7)
#define CR1_RE (1u << 2)
#define CR1_TE (1u << 3)
#define CR1_UE (1u << 13)

/* RM0390 USART chapter, 'Fractional baud rate generation', oversampling by 16 (OVER8 = 0): USARTDIV = clock / (16 * baud), and BRR holds it in 12.4
 * fixed point, so BRR = clock / baud, rounded. */
#define BRR_VALUE ((TINYC_CONSOLE_CLOCK_HZ + TINYC_CONSOLE_BAUD / 2u) / TINYC_CONSOLE_BAUD)
#if BRR_VALUE < 16u || BRR_VALUE > 0xFFFFu
#error "stm32f4-usart: clock_hz / baud must be 16 to 65535 (RM0390, USART fractional baud rate generation)"
#endif
#if TINYC_CONSOLE_AF > 15u
#error "stm32f4-usart: af is 0 to 15"
#endif

static void pin_alternate(uint32_t port, uint32_t pin, uint32_t pull)
{
    uint32_t gpio = GPIO_BASE(port);
    uint32_t afr = gpio + GPIO_AFRL + 4u * (pin / 8u);
    REG(RCC_AHB1ENR) |= 1u << port;
    (void)REG(RCC_AHB1ENR);  /* the clock is on before the port is touched */
    REG(afr) = (REG(afr) & ~(15u << 4u * (pin % 8u))) | (TINYC_CONSOLE_AF << 4u * (pin % 8u));
    REG(gpio + GPIO_PUPDR) = (REG(gpio + GPIO_PUPDR) & ~(3u << 2u * pin)) | (pull << 2u * pin);
    REG(gpio + GPIO_MODER) = (REG(gpio + GPIO_MODER) & ~(3u << 2u * pin)) | (MODER_AF << 2u * pin);
}

void tinyc_console_init(void)
{
    REG(TINYC_CONSOLE_RCC_ENABLE_REG) |= 1u << TINYC_CONSOLE_RCC_ENABLE_BIT;
    (void)REG(TINYC_CONSOLE_RCC_ENABLE_REG);
    pin_alternate(TINYC_CONSOLE_TX_PORT, TINYC_CONSOLE_TX_PIN, 0u);
    pin_alternate(TINYC_CONSOLE_RX_PORT, TINYC_CONSOLE_RX_PIN, PUPDR_PULL_UP);  /* idles high unplugged */
    REG(USART_BRR) = BRR_VALUE;
    REG(USART_CR1) = CR1_UE | CR1_TE | CR1_RE;  /* 8 data bits, no parity; CR2 (1 stop bit) and CR3 (no flow control) stay at reset */
}

void tinyc_console_write(const void *data, size_t len)
{
    const uint8_t *bytes = data;
    for (size_t i = 0; i < len; i++) {
        while (!(REG(USART_SR) & SR_TXE)) {
        }
        REG(USART_DR) = bytes[i];
    }
}

int tinyc_console_read(void *data, size_t len)
{
    uint8_t *bytes = data;
    for (size_t i = 0; i < len; i++) {
        /* Reading SR then DR clears an overrun (RM0390, USART_SR bit ORE), so a long stream never wedges. */
        while (!(REG(USART_SR) & (SR_RXNE | SR_ORE))) {
        }
        bytes[i] = (uint8_t)REG(USART_DR);
    }
    return 0;
}
