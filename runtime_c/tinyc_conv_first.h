/* tinyc_conv_first.h: tinyc_conv2d_first_s8 (tinyc_conv.c only), a network's first conv (few input channels,
 * KW = 3) on the DSP cores without Helium. Other cores, shapes, and channels outside the fast requantization
 * run tinyc_conv2d_smallk_s8 / tinyc_conv2d_s8 (same bits).
 *
 * Its own tap order makes the columns cheap: with R = Ci/g * KH kernel rows (row r = ic * KH + ky), pair r < R
 * is row r's (tap 0, tap 2), pair R + t the tap 1 of rows 2t and 2t + 1 (P = R + ceil(R / 2) pairs). One
 * unaligned word load per row gives both: SXTB16 of bytes (t0, t1, t2, t3) is (t0, t2), and of two rows'
 * words packed by PKHBT, SXTB16 ROR 8 is their (t1, t1'). Scratch: the weights expanded to int16 pairs in
 * that order (per channel pair and pair q: c0's word, c1's word), four pixels' columns (col[4 q + j]), the
 * channels' tinyc_pw_outq; the sums of 2 channels x 4 pixels come from an unrolled SMLAD leaf, the outputs
 * from tinyc_pw_store4_qadd (4 pixels of a channel in one word). */
#ifndef TINYC_CONV_FIRST_H
#define TINYC_CONV_FIRST_H

#include "tinyc_conv.h"
#include "tinyc_store4.h"

#define TINYC_CONV_FIRST_PAIRS 18  /* the leaf's unrolled pairs: Ci * KH <= 12 */

#if TINYC_HAS_DSP && !TINYC_HAS_MVE
/* s[j] = channel c0, s[4 + j] = channel c1 at pixel slot j (< 4): s[0], s[1] (c0's, c1's start value) plus
 * sums over `pairs` int16 pairs of the weights w (c0's word, c1's word per pair) and the columns c (4 words per
 * pair). In C: only the last pixels and an odd Co's last channel come here. */
static void tinyc_conv_first_sums_s8(const int32_t *w, const int32_t *c, int32_t pairs, int32_t *s)
{
    int32_t a[8], q, j;
    for (j = 0; j < 4; j++) {
        a[j] = s[0];
        a[4 + j] = s[1];
    }
    for (q = 0; q < pairs; q++, w += 2, c += 4) {
        for (j = 0; j < 4; j++) {
            a[j] = __smlad(w[0], c[j], a[j]);
            a[4 + j] = __smlad(w[1], c[j], a[4 + j]);
        }
    }
    for (j = 0; j < 8; j++) {
        s[j] = a[j];
    }
}

/* One pair q of the leaf below: c0's and c1's weight words, four pixels' column words, 8 SMLAD (11 four-byte
 * instructions: the leaf is entered part way into its unrolled pairs, so no loop counter). */
#define TINYC_CONV_FIRST_PAIR_ASM                                                                  \
    "ldrd r10, r11, [r0], #8\n\t"                                                                   \
    "ldrd r12, lr, [r1], #8\n\t"                                                                    \
    "smlad r2, r10, r12, r2\n\t"                                                                    \
    "smlad r3, r10, lr, r3\n\t"                                                                     \
    "smlad r6, r11, r12, r6\n\t"                                                                    \
    "smlad r7, r11, lr, r7\n\t"                                                                     \
    "ldrd r12, lr, [r1], #8\n\t"                                                                    \
    "smlad r4, r10, r12, r4\n\t"                                                                    \
    "smlad r5, r10, lr, r5\n\t"                                                                     \
    "smlad r8, r11, r12, r8\n\t"                                                                    \
    "smlad r9, r11, lr, r9\n\t"

/* For channel pairs c (< n, n >= 1) in turn: tinyc_conv_first_sums_s8 for channels k[2 c], k[2 c + 1] (their
 * bias the sums' start values; the pairs' weights one after the other from w), then their outputs at 4 pixels
 * stored as tinyc_pw_store4 does (same steps, fixed registers) at y + 2 c plane and y + (2 c + 1) plane. */
void tinyc_conv_first_out_s8(const int32_t *w, const int32_t *c, int32_t pairs, const tinyc_pw_outq *k, int8_t *y,
                          int32_t plane, int32_t n);
#define TINYC_CONV_FIRST_STORE_ASM(K, A0, A1, A2, A3)                                              \
    "ldrd r10, r11, [r0, #" #K "]\n\t"                                                              \
    "ldr r12, [r0, #" #K " + 8]\n\t"                                                                \
    TINYC_PW_Q1_R(A0, "lr", "r1", "r11", "r10", "r12")                                              \
    TINYC_PW_Q1_R(A1, "lr", "r1", "r11", "r10", "r12")                                              \
    TINYC_PW_Q1_R(A2, "lr", "r1", "r11", "r10", "r12")                                              \
    TINYC_PW_Q1_R(A3, "lr", "r1", "r11", "r10", "r12")                                              \
    TINYC_PW_PACK4_R(A0, A1, A2, A3)                                                                \
    "ldrd lr, r1, [r0, #" #K " + 12]\n\t"                                                           \
    TINYC_PW_CLAMP4_R(A0, "lr", "r1", "r10")
__asm__(".pushsection .text.tinyc_conv_first_out_s8,\"ax\",%progbits\n\t"
        ".syntax unified\n\t"
        ".thumb\n\t"
        ".p2align 2\n\t"
        ".global tinyc_conv_first_out_s8\n\t"
        ".type tinyc_conv_first_out_s8, %function\n\t"
        ".thumb_func\n"
        "tinyc_conv_first_out_s8:\n\t"
        "push {r3-r11, lr}\n\t"
        "sub sp, sp, #16\n\t"  /* [sp] entry, [sp, #4] c, [sp, #8] w, [sp, #12] k; y, plane, n at sp + 56.. */
        "add lr, r2, r2, lsl #1\n\t"
        "add lr, lr, r2, lsl #3\n\t"
        "adr.w r12, 2f\n\t"
        "sub r12, r12, lr, lsl #2\n\t"  /* 44 bytes a pair before the end */
        "orr r12, r12, #1\n\t"
        "str r12, [sp]\n\t"
        "str r1, [sp, #4]\n\t"
        "str r3, [sp, #12]\n"
        "3:\n\t"
        "ldr r3, [sp, #12]\n\t"
        "ldr r2, [r3, #20]\n\t"  /* k[0].bias */
        "ldr r6, [r3, #44]\n\t"  /* k[1].bias */
        "mov r3, r2\n\t"
        "mov r4, r2\n\t"
        "mov r5, r2\n\t"
        "mov r7, r6\n\t"
        "mov r8, r6\n\t"
        "mov r9, r6\n\t"
        "ldr r1, [sp, #4]\n\t"
        "ldr r12, [sp]\n\t"
        "bx r12\n"
        "1:\n\t"
        ".rept 18\n\t" TINYC_CONV_FIRST_PAIR_ASM ".endr\n"
        "2:\n\t"
        ".if (2b - 1b) - 18 * 44\n\t"
        ".error \"tinyc_conv_first_out_s8: a pair is not 44 bytes\"\n\t"
        ".endif\n\t"
        "str r0, [sp, #8]\n\t"
        "ldr r0, [sp, #12]\n\t"
        TINYC_CONV_FIRST_STORE_ASM(0, "r2", "r3", "r4", "r5")
        "ldr r1, [sp, #56]\n\t"
        "str r2, [r1]\n\t"
        TINYC_CONV_FIRST_STORE_ASM(24, "r6", "r7", "r8", "r9")
        "ldrd r1, r2, [sp, #56]\n\t"
        "str r6, [r1, r2]\n\t"
        "add r1, r1, r2, lsl #1\n\t"
        "str r1, [sp, #56]\n\t"
        "add r0, r0, #48\n\t"
        "str r0, [sp, #12]\n\t"
        "ldr r0, [sp, #8]\n\t"
        "ldr r1, [sp, #64]\n\t"
        "subs r1, r1, #1\n\t"
        "str r1, [sp, #64]\n\t"
        "bne 3b\n\t"
        "add sp, sp, #16\n\t"
        "pop {r3-r11, pc}\n\t"
        ".size tinyc_conv_first_out_s8, . - tinyc_conv_first_out_s8\n\t"
        ".popsection");
#undef TINYC_CONV_FIRST_STORE_ASM
#undef TINYC_CONV_FIRST_PAIR_ASM

/* Weight (oc, k) of the im2col layout (tinyc_conv.h: blocks of 4, then 2, then 1 channel; groups 1). */
static int32_t tinyc_conv_first_weight_s8(const tinyc_conv2d_im2col_s8_params *p, int32_t oc, int32_t k)
{
    const int8_t *w = (const int8_t *)(const void *)p->weights;
    const int32_t co = p->geom.output.c, kp = p->k_padded, half = kp >> 1, q = k % half, h = k / half;
    const int32_t m4 = co & ~3;
    if (oc < m4) {
        const int32_t i = oc & 3;
        return w[(oc & ~3) * kp + q * 8 + (i >> 1) * 4 + h * 2 + (i & 1)];
    }
    if (co - m4 >= 2 && oc < m4 + 2) {
        return w[m4 * kp + q * 4 + h * 2 + (oc - m4)];
    }
    return w[oc * kp + (q >> 1) * 4 + h * 2 + (q & 1)];
}

static inline int32_t tinyc_conv_first_pack_s8(int32_t lo, int32_t hi)
{
    return (int32_t)(((uint32_t)hi << 16) | (uint16_t)lo);
}

/* What the column fill needs, computed once per call. */
typedef struct {
    const int8_t *x;  /* the image's first plane */
    int32_t in_h, in_w, in_plane, kh, dh, rows, pairs;
    int32_t zp;
    int32_t off[12];  /* x offset of kernel row r from the window's top-left tap */
} tinyc_conv_first_geom;

/* Pixel slot j's column from the window at xw (its top-left tap; kernel row r at xw + off[r], rows of them)
 * whose word loads stay inside the buffer. */
static inline void tinyc_conv_first_inside_s8(const int32_t *off, int32_t rows, const int8_t *xw, int32_t *col)
{
    int32_t *odd = col + 4 * rows;
    int32_t r;
    for (r = 0; r + 1 < rows; r += 2) {
        const int32_t v0 = tinyc_load4(xw + off[r]), v1 = tinyc_load4(xw + off[r + 1]);
        col[4 * r] = __sxtb16(v0);
        col[4 * r + 4] = __sxtb16(v1);
        *odd = tinyc_sxtb16_odd(tinyc_conv_pack_lo(v0, v1));
        odd += 4;
    }
    if (r < rows) {
        const int32_t v0 = tinyc_load4(xw + off[r]);
        col[4 * r] = __sxtb16(v0);
        *odd = tinyc_sxtb16_odd(v0);  /* its high half meets weight 0 */
    }
}

/* Pixel slot j's column from a window with (iy0, ix0) anywhere: taps outside x hold input_zp. */
static void tinyc_conv_first_edge_s8(const tinyc_conv_first_geom *f, int32_t iy0, int32_t ix0, int32_t *col)
{
    const int8_t *xc = f->x;
    const int32_t zp = f->zp, rows = f->rows, in_w = f->in_w;
    const int m0 = ix0 >= 0 && ix0 < in_w, m1 = ix0 + 1 >= 0 && ix0 + 1 < in_w, m2 = ix0 + 2 >= 0 && ix0 + 2 < in_w;
    int32_t r, ky = 0, iy = iy0, t1[12];
    for (r = 0; r < rows; r++) {
        int32_t v0 = zp, v1 = zp, v2 = zp;
        if (iy >= 0 && iy < f->in_h) {
            const int32_t at = iy * in_w + ix0;  /* an index: the window's first tap may lie before x */
            v0 = m0 ? xc[at] : zp;
            v1 = m1 ? xc[at + 1] : zp;
            v2 = m2 ? xc[at + 2] : zp;
        }
        col[4 * r] = tinyc_conv_first_pack_s8(v0, v2);
        t1[r] = v1;
        iy += f->dh;
        if (++ky == f->kh) {
            ky = 0;
            iy = iy0;
            xc += f->in_plane;
        }
    }
    for (r = 0; r < rows; r += 2) {  /* a last lone row's partner has weight 0 */
        col[4 * (rows + r / 2)] = tinyc_conv_first_pack_s8(t1[r], r + 1 < rows ? t1[r + 1] : 0);
    }
}

/* Rows 2 i, 2 i + 1 (i < n, n >= 1) of four windows at xw + j sw (row r at offset off[r]) into the columns:
 * col[8 i + j] = (tap 0, tap 2) of row 2 i, col[8 i + 4 + j] of row 2 i + 1, odd[4 i + j] their (tap 1, tap 1).
 * Per two rows 8 word loads, 12 SXTB16, 4 PKHBT, 6 STRD. */
void tinyc_conv_first_fill4_s8(const int8_t *xw, int32_t sw, const int32_t *off, int32_t *col, int32_t *odd, int32_t n);
#define TINYC_CONV_FIRST_FILL2_ASM(COL)                                                            \
    "ldr r6, [r4]\n\t"                                                                             \
    "ldr r8, [r5]\n\t"                                                                             \
    "ldr r7, [r4, r1]\n\t"                                                                         \
    "ldr r9, [r5, r1]\n\t"                                                                         \
    "pkhbt r10, r6, r8, lsl #16\n\t"                                                               \
    "pkhbt r11, r7, r9, lsl #16\n\t"                                                               \
    "sxtb16 r10, r10, ror #8\n\t"                                                                  \
    "sxtb16 r11, r11, ror #8\n\t"                                                                  \
    "strd r10, r11, [r12], #8\n\t"                                                                 \
    "sxtb16 r6, r6\n\t"                                                                            \
    "sxtb16 r7, r7\n\t"                                                                            \
    "strd r6, r7, [r3, #" #COL "]\n\t"                                                             \
    "sxtb16 r8, r8\n\t"                                                                            \
    "sxtb16 r9, r9\n\t"                                                                            \
    "strd r8, r9, [r3, #" #COL " + 16]\n\t"
__asm__(".pushsection .text.tinyc_conv_first_fill4_s8,\"ax\",%progbits\n\t"
        ".syntax unified\n\t"
        ".thumb\n\t"
        ".p2align 2\n\t"
        ".global tinyc_conv_first_fill4_s8\n\t"
        ".type tinyc_conv_first_fill4_s8, %function\n\t"
        ".thumb_func\n"
        "tinyc_conv_first_fill4_s8:\n\t"
        "push {r4-r11, lr}\n\t"
        "ldrd r12, lr, [sp, #36]\n"  /* odd, n */
        "1:\n\t"
        "ldrd r4, r5, [r2], #8\n\t"
        "add r4, r4, r0\n\t"
        "add r5, r5, r0\n\t"
        TINYC_CONV_FIRST_FILL2_ASM(0)  /* pixels 0, 1 */
        "add r4, r4, r1, lsl #1\n\t"
        "add r5, r5, r1, lsl #1\n\t"
        TINYC_CONV_FIRST_FILL2_ASM(8)  /* pixels 2, 3 */
        "adds r3, r3, #32\n\t"
        "subs lr, lr, #1\n\t"
        "bne 1b\n\t"
        "pop {r4-r11, pc}\n\t"
        ".size tinyc_conv_first_fill4_s8, . - tinyc_conv_first_fill4_s8\n\t"
        ".popsection");
#undef TINYC_CONV_FIRST_FILL2_ASM

/* Four pixels' columns (slots 0..3) from windows inside x at xw + j sw (a row of output pixels) whose word
 * loads stay inside x. */
static void tinyc_conv_first_block_s8(const tinyc_conv_first_geom *f, const int8_t *xw, int32_t sw, int32_t *col)
{
    const int32_t rows = f->rows, pairs = rows >> 1;
    int32_t *odd = col + 4 * rows;
    if (pairs > 0) {
        tinyc_conv_first_fill4_s8(xw, sw, f->off, col, odd, pairs);
    }
    if (rows & 1) {  /* a lone last row: its tap 1's partner has weight 0 */
        const int8_t *a = xw + f->off[rows - 1];
        const int32_t a0 = tinyc_load4(a), a1 = tinyc_load4(a + sw), a2 = tinyc_load4(a + 2 * sw);
        const int32_t a3 = tinyc_load4(a + 3 * sw);
        col += 4 * (rows - 1);
        odd += 4 * pairs;
        col[0] = __sxtb16(a0);
        col[1] = __sxtb16(a1);
        col[2] = __sxtb16(a2);
        col[3] = __sxtb16(a3);
        odd[0] = tinyc_sxtb16_odd(a0);
        odd[1] = tinyc_sxtb16_odd(a1);
        odd[2] = tinyc_sxtb16_odd(a2);
        odd[3] = tinyc_sxtb16_odd(a3);
    }
}

/* Where the output pixels of row oy may take tinyc_conv_first_block_s8: output columns [ox_lo, ox_hi) (empty when
 * the kernel rows leave x), the word loads of the last window included. */
typedef struct {
    int32_t oy, ox_lo, ox_hi, x0;  /* x0: x index of the window (oy, 0)'s top-left tap */
} tinyc_conv_first_row;

static void tinyc_conv_first_row_of_s8(const tinyc_conv_first_geom *f, const tinyc_conv_geometry *g, int32_t oy,
                                    tinyc_conv_first_row *rw)
{
    const int32_t sw = g->stride_w, iy0 = oy * g->stride_h - g->pad_top;
    const int32_t last = iy0 + (g->kernel_h - 1) * g->dilation_h;
    /* a row's word load reads tap 3: inside x unless on x's last row */
    const int32_t limit = f->in_w - 3 - (last + 1 == f->in_h) + g->pad_left;  /* ix0 + pad_left at most */
    rw->oy = oy;
    rw->x0 = iy0 * f->in_w - g->pad_left;
    rw->ox_lo = (g->pad_left + sw - 1) / sw;
    rw->ox_hi = iy0 >= 0 && last < f->in_h && limit >= 0 ? limit / sw + 1 : 0;
    rw->ox_hi = rw->ox_hi < g->output.w ? rw->ox_hi : g->output.w;
}

/* Pixel slot j's column of output pixel (oy, ox), anywhere: word loads when they stay inside x, else by
 * tinyc_conv_first_edge_s8. */
static void tinyc_conv_first_slot_s8(const tinyc_conv_first_geom *f, const tinyc_conv_geometry *g, int32_t oy,
                                  int32_t ox, int32_t *col)
{
    const int32_t iy = oy * g->stride_h - g->pad_top, ix = ox * g->stride_w - g->pad_left;
    const int32_t span_h = (g->kernel_h - 1) * g->dilation_h;
    if (iy >= 0 && iy + span_h < f->in_h && ix >= 0 && ix + 2 < f->in_w
        && (ix + 3 < f->in_w || iy + span_h + 1 < f->in_h)) {
        tinyc_conv_first_inside_s8(f->off, f->rows, f->x + iy * f->in_w + ix, col);
    } else {
        tinyc_conv_first_edge_s8(f, iy, ix, col);
    }
}

/* The DSP kernel, or 0 when the layer or a channel needs tinyc_conv2d_s8. */
static int tinyc_conv_first_run_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias,
                                int8_t *y, int32_t *scratch)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t co = g->output.c, co2 = (co + 1) >> 1, out_w = g->output.w, out_plane = g->output.h * out_w;
    tinyc_conv_first_geom f;
    tinyc_conv2d_s8_params ps;
    int32_t *wx, *col, n, oc, r, q, px, cp, i;
    tinyc_pw_outq *k;
    if (g->groups != 1 || g->kernel_w != 3 || g->dilation_w != 1 || g->input.c * g->kernel_h > 12) {
        return 0;
    }
    f.in_h = g->input.h;
    f.in_w = g->input.w;
    f.in_plane = f.in_h * f.in_w;
    f.kh = g->kernel_h;
    f.dh = g->dilation_h;
    f.rows = g->input.c * f.kh;
    f.pairs = f.rows + (f.rows + 1) / 2;
    f.zp = p->input_zp;
    wx = scratch;
    col = wx + 2 * co2 * f.pairs;
    k = (tinyc_pw_outq *)(void *)(col + 4 * f.pairs);
    ps.geom = p->geom;  /* the fields tinyc_conv_fastq_of_s8 reads */
    ps.input_zp = p->input_zp;
    ps.output_zp = p->output_zp;
    ps.requant = p->requant;
    ps.clamp = p->clamp;
    ps.weight_sums = p->weight_sums;
    for (oc = 0; oc < co; oc++) {
        const tinyc_conv_fastq fq = tinyc_conv_fastq_of_s8(&ps, bias, oc, p->input_zp * p->weight_sums[oc]);
        /* |bias| < 2^30 and |sum| < 2^20 (K <= 36): started from the bias, the sums cannot saturate */
        if (!fq.fast || (uint32_t)fq.bias + 0x40000000u >= 0x80000000u) {
            return 0;
        }
        tinyc_pw_outq_from(&fq, &k[oc]);
    }
    for (oc = 0; oc < 2 * co2; oc++) {  /* an odd Co's last pair gets a zero channel */
        int32_t *d = wx + (oc >> 1) * 2 * f.pairs + (oc & 1);
        for (q = 0; q < f.pairs; q++) {
            const int32_t ka = q < f.rows ? 3 * q : 3 * (2 * (q - f.rows)) + 1;
            const int32_t kb = q < f.rows ? 3 * q + 2 : 3 * (2 * (q - f.rows) + 1) + 1;
            const int32_t wa = oc < co ? tinyc_conv_first_weight_s8(p, oc, ka) : 0;
            const int32_t wb = oc < co && kb < 3 * f.rows ? tinyc_conv_first_weight_s8(p, oc, kb) : 0;
            d[2 * q] = tinyc_conv_first_pack_s8(wa, wb);
        }
    }
    for (r = 0; r < f.rows; r++) {
        f.off[r] = (r / f.kh) * f.in_plane + (r % f.kh) * f.dh * f.in_w;
    }
    for (n = 0; n < g->input.n; n++) {
        tinyc_conv_first_row rw;
        int32_t ox = 0;
        f.x = x + (size_t)n * g->input.c * f.in_plane;
        tinyc_conv_first_row_of_s8(&f, g, 0, &rw);
        for (px = 0; px < out_plane; px += 4) {
            const int32_t m = out_plane - px < 4 ? out_plane - px : 4;
            int8_t *yc = y + (size_t)n * co * out_plane + px;
            const int32_t *wc = wx;
            if (m == 4 && ox >= rw.ox_lo && ox + 3 < rw.ox_hi) {  /* four windows inside x in a row */
                tinyc_conv_first_block_s8(&f, f.x + rw.x0 + ox * g->stride_w, g->stride_w, col);
                ox += 4;
            } else {  /* slots past the last pixel get any finite column */
                for (i = 0; i < 4; i++, ox++) {
                    if (ox == out_w) {
                        tinyc_conv_first_row_of_s8(&f, g, rw.oy + 1, &rw);
                        ox = 0;
                    }
                    tinyc_conv_first_slot_s8(&f, g, rw.oy, ox, col + i);
                }
            }
            if (ox == out_w && px + 4 < out_plane) {
                tinyc_conv_first_row_of_s8(&f, g, rw.oy + 1, &rw);
                ox = 0;
            }
            cp = 0;
            if (m == 4 && co >= 2) {  /* all full channel pairs in one call */
                cp = co >> 1;
                tinyc_conv_first_out_s8(wc, col, f.pairs, k, yc, out_plane, cp);
                wc += cp * 2 * f.pairs;
                yc += cp * 2 * out_plane;
            }
            for (; cp < co2; cp++) {  /* the last pixels, an odd Co's last channel */
                int32_t s[8];
                s[0] = k[2 * cp].bias;
                s[1] = 2 * cp + 1 < co ? k[2 * cp + 1].bias : 0;
                tinyc_conv_first_sums_s8(wc, col, f.pairs, s);
                for (i = 0; i < 2 * m && 2 * cp + i / m < co; i++) {
                    const tinyc_pw_outq *kc = &k[2 * cp + i / m];
                    const int32_t v = tinyc_conv_fastq_value(s[4 * (i / m) + i % m], kc->multiplier, kc->round_hi,
                                                             kc->rs);
                    yc[(i / m) * out_plane + i % m] = (int8_t)tinyc_clamp_i32(v, p->clamp.min, p->clamp.max);
                }
                wc += 2 * f.pairs;
                yc += 2 * out_plane;
            }
        }
    }
    return 1;
}
#endif

void tinyc_conv2d_first_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y,
                           void *scratch)
{
#if TINYC_HAS_DSP && !TINYC_HAS_MVE
    if (tinyc_conv_first_run_s8(p, x, bias, y, (int32_t *)scratch)) {
        return;
    }
    tinyc_conv2d_s8(p, x, bias, y, scratch);
#else
    (void)scratch;
    tinyc_conv2d_smallk_s8(p, x, bias, y);  /* Helium and portable cores: the columns on the stack, as before */
#endif
}

#endif /* TINYC_CONV_FIRST_H */
