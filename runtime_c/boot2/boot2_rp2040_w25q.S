/* boot2_rp2040_w25q.S: the RP2040's second-stage boot loader for a W25Q-family QSPI flash (the
 * Pico's W25Q16JV), written for tinyc. The boot ROM copies the first 256 bytes of flash to SRAM at
 * 0x20041f00, checks the CRC-32 of the first 252 against the last 4 and runs them (RP2040 Datasheet
 * 2.8.1.3). This code sets the XIP SSI up for plain serial 03h reads, so flash at 0x10000000 reads
 * as memory, then starts the firmware through its vector table at 0x10000100.
 *
 * It runs from SRAM but is linked at 0x10000000: only PC-relative loads of constants and relative
 * branches, no stack, nothing that depends on where it sits. The linker script pads it to 252
 * bytes and reserves the CRC word: scripts/make_boot2.py assembles it, adds the CRC and writes
 * runtime_c/port/boot2_rp2040_w25q.c, the 256 bytes the firmware links (so a build needs no assembler
 * step and no tool of tinyc). */
    .syntax unified
    .cpu cortex-m0plus
    .thumb

/* XIP SSI, a Synopsys DW_apb_ssi (RP2040 Datasheet 4.10, its list of registers) */
#define XIP_SSI_BASE        0x18000000
#define SSI_CTRLR0          0x00
#define SSI_CTRLR1          0x04
#define SSI_SSIENR          0x08
#define SSI_BAUDR           0x14
#define SSI_SPI_CTRLR0      0xf4

/* CTRLR0: SPI_FRF [22:21] = 0 (standard 1-bit SPI), DFS_32 [20:16] = 31 (32-bit frames: one XIP
 * word per transfer), TMOD [9:8] = 3 (EEPROM read: send command and address, then receive) */
#define CTRLR0_XIP          ((0 << 21) | (31 << 16) | (3 << 8))
/* SPI_CTRLR0: XIP_CMD [31:24] = 0x03 (W25Q16JV datasheet: Read Data, 03h), INST_L
 * [9:8] = 2 (8-bit instruction), ADDR_L [5:2] = 6 (24-bit address, in 4-bit units), TRANS_TYPE
 * [1:0] = 0 (instruction and address both in standard SPI) */
#define SPI_CTRLR0_XIP      ((0x03 << 24) | (2 << 8) | (6 << 2) | 0)
/* BAUDR: SCK = clk_sys / SCKDV, SCKDV even (4.10): at most 133 / 4 = 33 MHz, under the 50 MHz (fR)
 * the W25Q16JV allows for 03h reads, whatever clk_sys the firmware later sets */
#define SCK_DIVISOR         4

#define APP_VECTORS         0x10000100  /* the firmware's vector table, right after boot2 */
#define M0PLUS_VTOR         0xe000ed08  /* VTOR: Armv6-M ARM (DDI 0419) B3.2.5; RP2040 Datasheet 2.4 */

    .section .boot2, "ax"
    .global tinyc_boot2
    .type tinyc_boot2, %function
tinyc_boot2:
    ldr r3, =XIP_SSI_BASE
    movs r0, #0
    str r0, [r3, #SSI_SSIENR]       /* the SSI takes new settings only while disabled */
    movs r0, #SCK_DIVISOR
    str r0, [r3, #SSI_BAUDR]
    ldr r0, =CTRLR0_XIP
    str r0, [r3, #SSI_CTRLR0]
    movs r0, #0
    str r0, [r3, #SSI_CTRLR1]       /* NDF = 0: one data frame per XIP access */
    ldr r0, =SPI_CTRLR0_XIP
    movs r1, #SSI_SPI_CTRLR0        /* past the reach of str's immediate offset */
    str r0, [r3, r1]
    movs r0, #1
    str r0, [r3, #SSI_SSIENR]       /* from here reads of 0x10000000.. go to the flash */

    ldr r0, =APP_VECTORS
    ldr r1, =M0PLUS_VTOR
    str r0, [r1]                    /* exceptions use the firmware's table */
    ldm r0, {r0, r1}                /* its initial SP and reset handler */
    msr msp, r0
    bx r1
    .size tinyc_boot2, . - tinyc_boot2
    .ltorg
