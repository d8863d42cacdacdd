/* console_stm32h7_usart.c: the console on a USART of an STM32H7 (RM0433, STM32H743; the USART with
 * ISR/RDR/TDR): 8N1, no flow control, FIFO off, polled.
 * Board-file keys: base (the USART), baud, clock_hz (its kernel clock right after reset: the USART
 * kernel clock mux RCC_D2CCIP2R.USART234578SEL resets to rcc_pclk1, and pclk1 is the 64 MHz HSI with
 * every prescaler at 1; RM0433 8.5 (RCC clock block) and 8.7 (RCC registers)), tx_pin/rx_pin and af
 * (their alternate function, from the datasheet's AF table), rcc_enable_reg/rcc_enable_bit (the
 * USART's RCC_APBxENR clock bit). The GPIO ports sit at fixed places, so their addresses are constants. */
#include <stdint.h>

#include "tinyc_board.h"
#include "tinyc_console.h"

#define REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* RM0433 2.3.2 (memory map) and 8.7 (RCC registers): RCC at 0x58024400, RCC_AHB4ENR at +0xE0,
 * GPIOxEN = bit x. */
#define RCC_AHB4ENR 0x580244E0u
/* RM0433 memory map: GPIOA at 0x58020000, one port every 0x400. RM0433 11.4: GPIO registers. */
#define GPIO_BASE(port) (0x58020000u + 0x400u * (port))
#define GPIO_MODER 0x00u
#define GPIO_PUPDR 0x0Cu
#define GPIO_AFRL 0x20u   /* AFRH follows at 0x24 */
#define MODER_AF 2u
#define PUPDR_PULL_UP 1u
/* RM0433 USART chapter, 'USART registers': CR1 0x00, BRR 0x0C, ISR 0x1C, ICR 0x20, RDR 0x24, TDR 0x28. */
#define USART_CR1 (TINYC_CONSOLE_BASE + 0x00u)
#define USART_BRR (TINYC_CONSOLE_BASE + 0x0Cu)
#define USART_ISR (TINYC_CONSOLE_BASE + 0x1Cu)
#define USART_ICR (TINYC_CONSOLE_BASE + 0x20u)
#define USART_RDR (TINYC_CONSOLE_BASE + 0x24u)
#define USART_TDR (TINYC_CONSOLE_BASE + 0x28u)
#define CR1_UE (1u << 0)
#define CR1_RE (1u << 2)
#define CR1_TE (1u << 3)
#define ISR_ERRORS 0xFu   /* PE, FE, NE, ORE (bits 0..3); ICR clears them at the same bits */
#define ISR_RXNE (1u << 5)
#define ISR_TXE (1u << 7)

/* RM0433 USART chapter, 'USART baud rate generation', oversampling by 16 (OVER8 = 0), prescaler 1:
 * BRR = kernel clock / baud, rounded. */
#define BRR_VALUE ((TINYC_CONSOLE_CLOCK_HZ + TINYC_CONSOLE_BAUD / 2u) / TINYC_CONSOLE_BAUD)
#if BRR_VALUE < 16u || BRR_VALUE > 0xFFFFu
#error "stm32h7-usart: clock_hz / baud must be 16 to 65535 (RM0433, USART baud rate generation)"
#endif
#if TINYC_CONSOLE_AF > 15u
#error "stm32h7-usart: af is 0 to 15"
#endif

static void pin_alternate(uint32_t port, uint32_t pin, uint32_t pull)
{
    uint32_t gpio = GPIO_BASE(port);
    uint32_t afr = gpio + GPIO_AFRL + 4u * (pin / 8u);
    REG(RCC_AHB4ENR) |= 1u << port;
    (void)REG(RCC_AHB4ENR);  /* the clock is on before the port is touched */
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
    REG(USART_BRR) = BRR_VALUE;  /* BRR is written while UE is 0 */
    REG(USART_CR1) = CR1_UE | CR1_TE | CR1_RE;  /* 8 data bits, no parity, FIFO off; CR2/CR3 stay at reset */
}

void tinyc_console_write(const void *data, size_t len)
{
    const uint8_t *bytes = data;
    for (size_t i = 0; i < len; i++) {
        while (!(REG(USART_ISR) & ISR_TXE)) {
        }
        REG(USART_TDR) = bytes[i];
    }
}

int tinyc_console_read(void *data, size_t len)
{
    uint8_t *bytes = data;
    for (size_t i = 0; i < len; i++) {
        uint32_t isr;
        while (!((isr = REG(USART_ISR)) & ISR_RXNE)) {
            if (isr & ISR_ERRORS) {
                REG(USART_ICR) = isr & ISR_ERRORS;  /* an overrun stays set until cleared here */
            }
        }
        bytes[i] = (uint8_t)REG(USART_RDR);
        if (isr & ISR_ERRORS) {
            REG(USART_ICR) = isr & ISR_ERRORS;
        }
    }
    return 0;
}
