/* console_stm32f1_usart.c: the console on a USART of an STM32F1 (RM0008, STM32F103): 8N1, no flow
 * control, polled. F1 GPIO has no alternate-function mux: a pin is configured in CRL/CRH as
 * "alternate function push-pull" (TX) or as an input (RX), and the USART's default pins are fixed
 * (RM0008 9.3, 'Alternate function I/O and debug configuration').
 * Board-file keys: base (the USART), baud, clock_hz (its APB clock right after reset: the 8 MHz HSI,
 * AHB and APB prescalers 1; RM0008 7.2 (clocks) and RCC_CFGR's reset value), tx_pin/rx_pin,
 * rcc_enable_reg/rcc_enable_bit (the USART's RCC_APBxENR clock bit). */
#include <stdint.h>

#include "tinyc_board.h"
#include "tinyc_console.h"

#define REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* RM0008 3.3 (memory map) and 7.3 (RCC registers): RCC at 0x40021000, RCC_APB2ENR at +0x18,
 * IOPxEN = bit 2 + x (IOPAEN is bit 2). */
#define RCC_APB2ENR 0x40021018u
#define APB2ENR_IOPEN(port) (1u << (2u + (port)))
/* RM0008 3.3: GPIOA at 0x40010800, one port every 0x400. RM0008 9.2 (GPIO registers): CRL configures
 * pins 0..7 and CRH pins 8..15, four bits a pin (MODE[1:0], then CNF[1:0]); ODR picks pull-up. */
#define GPIO_BASE(port) (0x40010800u + 0x400u * (port))
#define GPIO_CRL 0x00u
#define GPIO_ODR 0x0Cu
#define PIN_AF_PUSH_PULL_2MHZ 0xAu   /* CNF = 10 (alternate function push-pull), MODE = 10 (output, 2 MHz) */
#define PIN_INPUT_PULL 0x8u          /* CNF = 10 (input with pull-up/down), MODE = 00 (input) */
/* RM0008 27.6 (USART registers): SR 0x00, DR 0x04, BRR 0x08, CR1 0x0C. */
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

/* RM0008 27.3.4 (fractional baud rate generation): USARTDIV = clock / (16 * baud), held in BRR as
 * 12.4 fixed point, so BRR = clock / baud, rounded. */
#define BRR_VALUE ((TINYC_CONSOLE_CLOCK_HZ + TINYC_CONSOLE_BAUD / 2u) / TINYC_CONSOLE_BAUD)
#if BRR_VALUE < 16u || BRR_VALUE > 0xFFFFu
#error "stm32f1-usart: clock_hz / baud must be 16 to 65535 (RM0008 27.3.4)"
#endif

static void pin_mode(uint32_t port, uint32_t pin, uint32_t mode)
{
    uint32_t cr = GPIO_BASE(port) + GPIO_CRL + 4u * (pin / 8u);
    REG(RCC_APB2ENR) |= APB2ENR_IOPEN(port);
    (void)REG(RCC_APB2ENR);  /* the clock is on before the port is touched */
    REG(cr) = (REG(cr) & ~(15u << 4u * (pin % 8u))) | (mode << 4u * (pin % 8u));
}

void tinyc_console_init(void)
{
    REG(TINYC_CONSOLE_RCC_ENABLE_REG) |= 1u << TINYC_CONSOLE_RCC_ENABLE_BIT;
    (void)REG(TINYC_CONSOLE_RCC_ENABLE_REG);
    pin_mode(TINYC_CONSOLE_TX_PORT, TINYC_CONSOLE_TX_PIN, PIN_AF_PUSH_PULL_2MHZ);
    pin_mode(TINYC_CONSOLE_RX_PORT, TINYC_CONSOLE_RX_PIN, PIN_INPUT_PULL);
    REG(GPIO_BASE(TINYC_CONSOLE_RX_PORT) + GPIO_ODR) |= 1u << TINYC_CONSOLE_RX_PIN;  /* pull-up: idles high unplugged */
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
        /* Reading SR then DR clears an overrun (RM0008 27.6.1, ORE), so a long stream never wedges. */
        while (!(REG(USART_SR) & (SR_RXNE | SR_ORE))) {
        }
        bytes[i] = (uint8_t)REG(USART_DR);
    }
    return 0;
}
