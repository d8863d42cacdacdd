/* tinyc_conv.c: general convolution. int8: im2col of four output pixels into int16 scratch, then
 * 2 (or 1) output channels x 4 pixels per pass over the columns (SMLAD on the DSP path, plain C
 * otherwise, same sums). float32: direct loops over the in-bounds taps (out-of-bounds taps add 0 * w).
 *
 * int8 column layout (K = Ci/groups * KH * KW in (ic, ky, kx) order, k_padded = K rounded up to 4,
 * half = k_padded / 2): k and k + half share an int16 pair, the four pixels' pairs alternate:
 * int16 col[8 q + 2 j + h] = x_j[q + h * half] (pixel slot j < 4, pair q < half; TINYC_COL_S = 8).
 * One LDRD gives two pixels' pair q; column writes go with a stride of 8 int16, and k in [K, k_padded)
 * stay 0. */
#include "tinyc_conv.h"
#include "tinyc_conv_im2col.h"
#include "tinyc_conv_mve.h"

/* The output constants, copied out of the params: stores to y (int8, may alias anything) would
 * otherwise reload them for every output. */
typedef struct {
    int32_t input_zp, output_zp, act_min, act_max;
    const int32_t *multiplier, *shift, *weight_sums, *bias;
} tinyc_conv_outq;

/* tinyc_requantize out of line, for the rare left shift (multiplier >= 1): keeps the hot copies small. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int32_t tinyc_conv_requantize_any_s8(int32_t acc, int32_t multiplier, int32_t shift)
{
    return tinyc_requantize(acc, multiplier, shift);
}

/* Two output pixels (s0, s1: raw sums x * w over the columns) of channel oc into yp[0] and yp[d1]
 * (d1 = 0 for a lone pixel: its second output is overwritten): tinyc_requantize_s8's steps with the
 * channel's constants read once for both. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void tinyc_conv_out2_s8(const tinyc_conv_outq *q, int32_t oc, int32_t s0, int32_t s1, int8_t *yp,
                                      int32_t d1)
{
    const int32_t offset = q->input_zp * q->weight_sums[oc];
    const int32_t mult = q->multiplier[oc], shift = q->shift[oc];
    const int32_t b = q->bias ? q->bias[oc] : 0;
    const uint32_t right = (uint32_t)-shift;
    int32_t a0 = s0 - offset, a1 = s1 - offset;
#if TINYC_HAS_DSP  /* portable C has no SMLAL: its 64-bit form is slower than tinyc_requantize there */
    if (right - 2u <= 21u && (uint32_t)b + 0x40000000u < 0x80000000u
        && (uint32_t)offset + 0x40000000u < 0x80000000u) {  /* tinyc_conv_fastq's one-SMLAL form */
        const int32_t bq = b - offset, rs = (int32_t)right - 1;
        const int32_t round_hi = (int32_t)((1u << (right - 2u)) + (uint32_t)q->output_zp * (1u << (right - 1u)));
        a0 = tinyc_conv_fastq_value(tinyc_conv_qadd(s0, bq), mult, round_hi, rs);
        a1 = tinyc_conv_fastq_value(tinyc_conv_qadd(s1, bq), mult, round_hi, rs);
        yp[d1] = (int8_t)tinyc_clamp_i32(a1, q->act_min, q->act_max);
        yp[0] = (int8_t)tinyc_clamp_i32(a0, q->act_min, q->act_max);  /* after: d1 may be 0 */
        return;
    }
#else
    (void)b;
    (void)right;
#endif
    if (q->bias) {
#if TINYC_HAS_DSP
        a0 = __qadd(a0, q->bias[oc]);  /* the saturating add of tinyc_add_bias_sat */
        a1 = __qadd(a1, q->bias[oc]);
#else
        a0 = tinyc_add_bias_sat(a0, q->bias, oc);
        a1 = tinyc_add_bias_sat(a1, q->bias, oc);
#endif
    }
    if (shift <= 0) {  /* the usual case, inlined: gcc drops the left-shift saturation from it */
        a0 = tinyc_requantize(a0, mult, shift);
        a1 = tinyc_requantize(a1, mult, shift);
    } else {
        a0 = tinyc_conv_requantize_any_s8(a0, mult, shift);
        a1 = tinyc_conv_requantize_any_s8(a1, mult, shift);
    }
    yp[d1] = (int8_t)tinyc_clamp_i32(a1 + q->output_zp, q->act_min, q->act_max);
    yp[0] = (int8_t)tinyc_clamp_i32(a0 + q->output_zp, q->act_min, q->act_max);  /* after: d1 may be 0 */
}

/* Four output pixels s[0..3] of channel oc into yp[0..3] in tinyc_conv_fastq's one-SMLAL form, the
 * channel's constants read once; 0 (nothing written) when the channel needs the general form or the
 * core has no SMLAL (then tinyc_conv_out2_s8). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int tinyc_conv_out4_s8(const tinyc_conv_outq *q, int32_t oc, const int32_t *s, int8_t *yp)
{
#if TINYC_HAS_DSP
    const int32_t offset = q->input_zp * q->weight_sums[oc];
    const int32_t mult = q->multiplier[oc], b = q->bias ? q->bias[oc] : 0;
    const uint32_t right = (uint32_t)-q->shift[oc];
    if (right - 2u <= 21u && (uint32_t)b + 0x40000000u < 0x80000000u
        && (uint32_t)offset + 0x40000000u < 0x80000000u) {
        const int32_t bq = b - offset, rs = (int32_t)right - 1, lo = q->act_min, hi = q->act_max;
        const int32_t round_hi = (int32_t)((1u << (right - 2u)) + (uint32_t)q->output_zp * (1u << (right - 1u)));
        const int32_t v0 = tinyc_conv_fastq_value(__qadd(s[0], bq), mult, round_hi, rs);
        const int32_t v1 = tinyc_conv_fastq_value(__qadd(s[1], bq), mult, round_hi, rs);
        const int32_t v2 = tinyc_conv_fastq_value(__qadd(s[2], bq), mult, round_hi, rs);
        const int32_t v3 = tinyc_conv_fastq_value(__qadd(s[3], bq), mult, round_hi, rs);
        yp[0] = (int8_t)tinyc_clamp_i32(v0, lo, hi);
        yp[1] = (int8_t)tinyc_clamp_i32(v1, lo, hi);
        yp[2] = (int8_t)tinyc_clamp_i32(v2, lo, hi);
        yp[3] = (int8_t)tinyc_clamp_i32(v3, lo, hi);
        return 1;
    }
#else
    (void)q;
    (void)oc;
    (void)s;
    (void)yp;
#endif
    return 0;
}

#if !TINYC_HAS_DSP
/* Byte j of weight word v (little-endian lanes, whatever the host's byte order) as int8. */
static inline int32_t tinyc_conv_lane_s8(int32_t v, int j)
{
    return (int32_t)(int8_t)(uint8_t)((uint32_t)v >> (8 * j));
}

#endif

#if TINYC_HAS_DSP
/* s[4 m + j] = channel c_m pixel slot j (m < 2, j < 4) over the pairs q of the columns c (4 words per
 * pair, until end; an even count > 0), weight word of pair q at w[q] (W4) or w[2 q] (W8). A leaf
 * function in assembly: it needs all 14 registers (8 sums, the two channels' weight pairs, two pixels'
 * column words, c and w; end and s wait on the stack), which inline asm cannot have at -O0 or with a
 * frame pointer. Per pair: one LDR and two SXTB16 for the weights, two LDRD, eight SMLAD. */
void tinyc_conv_sums_2x4_w4(const int32_t *w, const int32_t *c, const int32_t *end, int32_t *s);
void tinyc_conv_sums_2x4_w8(const int32_t *w, const int32_t *c, const int32_t *end, int32_t *s);
#define TINYC_CONV_PAIR_ASM(WSTEP)                                                          \
    "ldr r10, [r0], #" #WSTEP "\n\t"                                                        \
    "sxtb16 r11, r10\n\t"                                                                   \
    "sxtb16 r10, r10, ror #8\n\t"                                                           \
    "ldrd r12, lr, [r1], #8\n\t"                                                            \
    "smlad r2, r11, r12, r2\n\t"                                                            \
    "smlad r3, r11, lr, r3\n\t"                                                             \
    "smlad r6, r10, r12, r6\n\t"                                                            \
    "smlad r7, r10, lr, r7\n\t"                                                             \
    "ldrd r12, lr, [r1], #8\n\t"                                                            \
    "smlad r4, r11, r12, r4\n\t"                                                            \
    "smlad r5, r11, lr, r5\n\t"                                                             \
    "smlad r8, r10, r12, r8\n\t"                                                            \
    "smlad r9, r10, lr, r9\n\t"
#define TINYC_CONV_SUMS_ASM(NAME, WSTEP)                                                    \
    __asm__(".pushsection .text." NAME ",\"ax\",%progbits\n\t"                             \
            ".syntax unified\n\t"                                                           \
            ".thumb\n\t"                                                                    \
            ".p2align 2\n\t"                                                                \
            ".global " NAME "\n\t"                                                          \
            ".type " NAME ", %function\n\t"                                                 \
            ".thumb_func\n"                                                                 \
            NAME ":\n\t"                                                                    \
            "push {r2-r12, lr}\n\t"  /* [sp] = end, [sp, #4] = s */                         \
            "movs r2, #0\n\t"                                                               \
            "movs r3, #0\n\t"                                                               \
            "movs r4, #0\n\t"                                                               \
            "movs r5, #0\n\t"                                                               \
            "movs r6, #0\n\t"                                                               \
            "movs r7, #0\n\t"                                                               \
            "mov r8, #0\n\t"                                                                \
            "mov r9, #0\n"                                                                  \
            "1:\n\t"                                                                        \
            TINYC_CONV_PAIR_ASM(WSTEP) TINYC_CONV_PAIR_ASM(WSTEP)                           \
            "ldr r12, [sp]\n\t"                                                             \
            "cmp r1, r12\n\t"                                                               \
            "bne 1b\n\t"                                                                    \
            "ldr r12, [sp, #4]\n\t"                                                         \
            "stmia r12, {r2-r9}\n\t"                                                        \
            "pop {r2-r12, pc}\n\t"                                                          \
            ".size " NAME ", . - " NAME "\n\t"                                              \
            ".popsection")
TINYC_CONV_SUMS_ASM("tinyc_conv_sums_2x4_w4", 4);
TINYC_CONV_SUMS_ASM("tinyc_conv_sums_2x4_w8", 8);
#undef TINYC_CONV_SUMS_ASM
#undef TINYC_CONV_PAIR_ASM
#endif

/* Raw sums s[4 m + j] (channel m of 2, pixel slot j of 4) over the interleaved columns, the weight word
 * of pair q at w[q * wstep / 4] (c0 q, c1 q, c0 q + half, c1 q + half): SXTB16 gives channel c0's pair,
 * SXTB16 ROR 8 channel c1's. */
static void tinyc_conv_dot_2x4_s8(const int32_t *w, const int16_t *col, int32_t half, int wstep, int32_t s[8])
{
#if TINYC_HAS_DSP
    const int32_t *c = (const int32_t *)(const void *)col;
    if (wstep == 8) {
        tinyc_conv_sums_2x4_w8(w, c, c + 4 * half, s);
    } else {
        tinyc_conv_sums_2x4_w4(w, c, c + 4 * half, s);
    }
#else
    int32_t s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0, q;
    const int32_t step = wstep / 4;
    for (q = 0; q < half; q++) {  /* sums in locals: s may alias w */
        const int32_t v = *w;
        const int32_t a0 = tinyc_conv_lane_s8(v, 0), a1 = tinyc_conv_lane_s8(v, 2);
        const int32_t b0 = tinyc_conv_lane_s8(v, 1), b1 = tinyc_conv_lane_s8(v, 3);
        s00 += col[0] * a0 + col[1] * a1;
        s01 += col[2] * a0 + col[3] * a1;
        s02 += col[4] * a0 + col[5] * a1;
        s03 += col[6] * a0 + col[7] * a1;
        s10 += col[0] * b0 + col[1] * b1;
        s11 += col[2] * b0 + col[3] * b1;
        s12 += col[4] * b0 + col[5] * b1;
        s13 += col[6] * b0 + col[7] * b1;
        col += TINYC_COL_S;
        w += step;
    }
    s[0] = s00;
    s[1] = s01;
    s[2] = s02;
    s[3] = s03;
    s[4] = s10;
    s[5] = s11;
    s[6] = s12;
    s[7] = s13;
#endif
}

/* As tinyc_conv_dot_2x4_s8 for 1 channel: one word per two pairs q, q + 1, as
 * (w q, w q + 1, w q + half, w q + 1 + half): SXTB16 gives pair q's weights, SXTB16 ROR 8 pair q + 1's. */
static void tinyc_conv_dot_1x4_s8(const int32_t *w, const int16_t *col, int32_t half, int32_t s[4])
{
    int32_t q;
#if TINYC_HAS_DSP
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const int32_t *c = (const int32_t *)(const void *)col;
    for (q = half >> 1; q > 0; q--) {
        int32_t v = *w++;
        const int32_t t = __sxtb16(v);
        v = tinyc_sxtb16_odd(v);
        s0 = __smlad(t, c[0], s0);
        s1 = __smlad(t, c[1], s1);
        s2 = __smlad(t, c[2], s2);
        s3 = __smlad(t, c[3], s3);
        s0 = __smlad(v, c[4], s0);
        s1 = __smlad(v, c[5], s1);
        s2 = __smlad(v, c[6], s2);
        s3 = __smlad(v, c[7], s3);
        c += 8;
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
#else
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (q = 0; q < half; q += 2) {  /* sums in locals: s may alias w */
        const int32_t v = *w++;
        const int32_t a0 = tinyc_conv_lane_s8(v, 0), a1 = tinyc_conv_lane_s8(v, 2);
        const int32_t b0 = tinyc_conv_lane_s8(v, 1), b1 = tinyc_conv_lane_s8(v, 3);
        s0 += col[0] * a0 + col[1] * a1 + col[8] * b0 + col[9] * b1;
        s1 += col[2] * a0 + col[3] * a1 + col[10] * b0 + col[11] * b1;
        s2 += col[4] * a0 + col[5] * a1 + col[12] * b0 + col[13] * b1;
        s3 += col[6] * a0 + col[7] * a1 + col[14] * b0 + col[15] * b1;
        col += 2 * TINYC_COL_S;
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
#endif
}

/* Output pixels yp[0 .. n_px) (n_px <= 4 filled slots) of the group's cout_g channels: blocks of 4
 * channels (two passes of 2), then 2, then 1. */
static void tinyc_conv_pixels_s8(const tinyc_conv2d_im2col_s8_params *p, const int32_t *bias, const int32_t *wr,
                                 const int16_t *col, int8_t *yp, int32_t oc, int32_t cout_g, int32_t out_plane,
                                 int32_t n_px)
{
    const int32_t half = p->k_padded >> 1;
    tinyc_conv_outq q;
    int32_t m, n, i, s[16];
    q.input_zp = p->input_zp;
    q.output_zp = p->output_zp;
    q.act_min = p->clamp.min;
    q.act_max = p->clamp.max;
    q.multiplier = p->requant.multiplier;
    q.shift = p->requant.shift;
    q.weight_sums = p->weight_sums;
    q.bias = bias;
    for (m = 0; m < cout_g; m += n) {
        n = cout_g - m >= 4 ? 4 : cout_g - m >= 2 ? 2 : 1;
        if (n == 4) {
            tinyc_conv_dot_2x4_s8(wr, col, half, 8, s);
            tinyc_conv_dot_2x4_s8(wr + 1, col, half, 8, s + 8);
        } else if (n == 2) {
            tinyc_conv_dot_2x4_s8(wr, col, half, 4, s);
        } else {
            tinyc_conv_dot_1x4_s8(wr, col, half, s);
        }
        for (i = 0; i < n; i++) {  /* one copy of the output code: kws_dscnn's kernels must fit 12 KB */
            const int32_t *si = s + 4 * i;
            if (n_px == 4 && tinyc_conv_out4_s8(&q, oc + i, si, yp)) {
                yp += out_plane;
                continue;
            }
            if (n_px >= 2) {
                tinyc_conv_out2_s8(&q, oc + i, si[0], si[1], yp, 1);
            } else {
                tinyc_conv_out2_s8(&q, oc + i, si[0], si[0], yp, 0);
            }
            if (n_px >= 3) {
                tinyc_conv_out2_s8(&q, oc + i, si[2], si[3], yp + 2, n_px == 4);
            }
            yp += out_plane;
        }
        wr += n * (half >> 1);
        oc += n;
    }
}

#if TINYC_HAS_MVE
/* The Helium path's columns: the two pixels' bytes interleaved in k order, col[2 k + j] = x_j[k] (pair q's
 * low element k = q at 2 q, its high one k = q + half at 2 half + 2 q), then 32 zero bytes the vector
 * loads of a chunk's tail may read. A block of weights deinterleaved by VLD4 gives lanes (e[q], o[q]) of
 * two channels; against a column vector (x0[q], x1[q]) VMLADAV sums e x0 + o x1, VMLSDAV e x0 - o x1, and
 * their exchange forms (which swap each pair of the first operand) o x0 + e x1 and o x0 - e x1: four
 * instructions give 2 channels x 2 pixels, each the half sum or difference of two of them (exact:
 * |e x0| < 2^30 for K < 66000). */
#define TINYC_CONV_MVE_SLACK 32

/* Raw sums s[2 m + j] of pairs [q0, half) from the layout bytes, for the tail a vector chunk would read
 * past the weights: n = 4, 2 or 1 channels, as tinyc_conv.h describes. */
static void tinyc_conv_mve_tail_s8(const int8_t *w, const int8_t *col, int32_t half, int32_t q0, int32_t n,
                                   int32_t s[8])
{
    const int8_t *hi = col + 2 * half;
    int32_t q, m;
    for (q = q0; q < half; q++) {
        for (m = 0; m < n; m++) {
            int32_t wl, wh;
            if (n == 1) {
                const int8_t *b = w + 4 * (q >> 1) + (q & 1);
                wl = b[0];
                wh = b[2];
            } else {
                const int8_t *b = w + 2 * n * q + (m >> 1) * 4 + (m & 1);
                wl = b[0];
                wh = b[2];
            }
            s[2 * m] += wl * col[2 * q] + wh * hi[2 * q];
            s[2 * m + 1] += wl * col[2 * q + 1] + wh * hi[2 * q + 1];
        }
    }
}

/* Sums of one block of n channels (4, 2, 1) x 2 pixels over the columns: s[2 m + j]. w_end: the end of
 * the weights array (a chunk's VLD4 must not read past it). Not inlined: its vector spills stay in its
 * own frame. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_conv_mve_block_s8(const int8_t *w, const int8_t *col, int32_t half, int32_t n,
                                    const int8_t *w_end, int32_t s[8])
{
    const int8_t *hi = col + 2 * half;
    const int8x16_t zero = vdupq_n_s8(0);
    int32_t q = 0;
    if (n == 2) {
        int32_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
        for (; q < half && w + 4 * q + 64 <= w_end; q += 16) {
            int8x16x4_t v = vld4q_s8(w + 4 * q);
            const int8x16x2_t cl = vld2q_s8(col + 2 * q), ch = vld2q_s8(hi + 2 * q);
            if (half - q < 16) {
                const mve_pred16_t live = vctp8q((uint32_t)(half - q));
                v.val[0] = vpselq_s8(v.val[0], zero, live);
                v.val[1] = vpselq_s8(v.val[1], zero, live);
                v.val[2] = vpselq_s8(v.val[2], zero, live);
                v.val[3] = vpselq_s8(v.val[3], zero, live);
            }
            a0 = vmladavaq_s8(a0, v.val[0], cl.val[0]);
            a1 = vmladavaq_s8(a1, v.val[0], cl.val[1]);
            b0 = vmladavaq_s8(b0, v.val[1], cl.val[0]);
            b1 = vmladavaq_s8(b1, v.val[1], cl.val[1]);
            a0 = vmladavaq_s8(a0, v.val[2], ch.val[0]);
            a1 = vmladavaq_s8(a1, v.val[2], ch.val[1]);
            b0 = vmladavaq_s8(b0, v.val[3], ch.val[0]);
            b1 = vmladavaq_s8(b1, v.val[3], ch.val[1]);
        }
        s[0] = a0;
        s[1] = a1;
        s[2] = b0;
        s[3] = b1;
    } else {
        int32_t a0 = 0, a1 = 0;
        for (; q < half && w + 2 * q + 32 <= w_end; q += 16) {
            const int16x8x2_t v = vld2q_s16((const int16_t *)(const void *)(w + 2 * q));
            int8x16_t vl = vreinterpretq_s8_s16(v.val[0]), vh = vreinterpretq_s8_s16(v.val[1]);
            const int8x16x2_t cl = vld2q_s8(col + 2 * q), ch = vld2q_s8(hi + 2 * q);
            if (half - q < 16) {
                const mve_pred16_t live = vctp8q((uint32_t)(half - q));
                vl = vpselq_s8(vl, zero, live);
                vh = vpselq_s8(vh, zero, live);
            }
            a0 = vmladavaq_s8(a0, vl, cl.val[0]);
            a1 = vmladavaq_s8(a1, vl, cl.val[1]);
            a0 = vmladavaq_s8(a0, vh, ch.val[0]);
            a1 = vmladavaq_s8(a1, vh, ch.val[1]);
        }
        s[0] = a0;
        s[1] = a1;
    }
    if (q < half) {
        tinyc_conv_mve_tail_s8(w, col, half, q, n, s);
    }
}

/* Blocks of 4 output channels (nblocks of them from oc, their weights from w) x the 2 pixels of col: each
 * block's sums (e = c0 or c1, o = c2 or c3: e x0 = (S + D) / 2, o x1 = (S - D) / 2, e x1 = (X - Y) / 2,
 * o x0 = (X + Y) / 2, wrapping: the true values fit int32) go into two vectors, lanes = the channels, one
 * per pixel, requantized and stored out_plane apart (pixel 1 at yp + 1 when two). Not inlined: its vector
 * spills stay in its own frame. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_conv_mve_blocks4_s8(const tinyc_conv2d_im2col_s8_params *p, const int32_t *bias, int32_t oc,
                                      int32_t nblocks, const int8_t *w, const int8_t *col, int32_t half,
                                      int8_t *yp, int32_t out_plane, int two)
{
    const int8_t *hi = col + 2 * half;
    const uint32x4_t planes4 = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)out_plane);
    for (; nblocks > 0; nblocks--, oc += 4, w += 8 * half, yp += 4 * out_plane) {
        const tinyc_mve_outq4 q4 = tinyc_mve_outq4_of(p->requant.multiplier + oc, p->requant.shift + oc,
                                                      p->weight_sums + oc, bias ? bias + oc : NULL, p->input_zp,
                                                      p->output_zp, p->clamp);
        int32_t q = 0;
        int32x4_t x, y, xs, ys;
            int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
            int8x16x4_t v;
            int8x16_t cl, ch;
#define TINYC_CONV_MVE_4X2()                        \
        do {                                            \
            a0 = vmladavaq_s8(a0, v.val[0], cl);        \
            a1 = vmlsdavaq_s8(a1, v.val[0], cl);        \
            a2 = vmladavaxq_s8(a2, v.val[0], cl);       \
            a3 = vmlsdavaxq_s8(a3, v.val[0], cl);       \
            a0 = vmladavaq_s8(a0, v.val[2], ch);        \
            a1 = vmlsdavaq_s8(a1, v.val[2], ch);        \
            a2 = vmladavaxq_s8(a2, v.val[2], ch);       \
            a3 = vmlsdavaxq_s8(a3, v.val[2], ch);       \
            b0 = vmladavaq_s8(b0, v.val[1], cl);        \
            b1 = vmlsdavaq_s8(b1, v.val[1], cl);        \
            b2 = vmladavaxq_s8(b2, v.val[1], cl);       \
            b3 = vmlsdavaxq_s8(b3, v.val[1], cl);       \
            b0 = vmladavaq_s8(b0, v.val[3], ch);        \
            b1 = vmlsdavaq_s8(b1, v.val[3], ch);        \
            b2 = vmladavaxq_s8(b2, v.val[3], ch);       \
            b3 = vmlsdavaxq_s8(b3, v.val[3], ch);       \
        } while (0)
#if defined(__GNUC__) && defined(__OPTIMIZE__) && defined(TINYC_MVE_ASM)
            /* TINYC_MVE_ASM: the board's flags set it (tinyc.board.gcc_flags); the asm takes every even register and
             * lr, so a build with -fno-omit-frame-pointer (r7) or -O0 leaves it out and runs the loop below */
            if (half >= 8) {
                /* The chunk loop in asm: VMLADAVA writes even registers only, and with LE's counter in lr gcc
                 * has seven for eight sums (it moves and spills them every chunk: 31 instructions, here 25). */
                register int32_t r0 __asm__("r0") = 0, r2 __asm__("r2") = 0, r4 __asm__("r4") = 0,
                                      r6 __asm__("r6") = 0, r8 __asm__("r8") = 0, r10 __asm__("r10") = 0,
                                      r12 __asm__("r12") = 0, r14 __asm__("lr") = 0;
                const int8_t *wp = w, *lp = col, *hp = hi;
                int32_t chunks = half >> 3;
                __asm__ volatile(
                    "1:\n\t"
                    "vld40.8 {q0, q1, q2, q3}, [%[wp]]\n\t"
                    "vld41.8 {q0, q1, q2, q3}, [%[wp]]\n\t"
                    "vld42.8 {q0, q1, q2, q3}, [%[wp]]\n\t"
                    "vld43.8 {q0, q1, q2, q3}, [%[wp]]!\n\t"
                    "vldrb.u8 q4, [%[lp]], #16\n\t"
                    "vldrb.u8 q5, [%[hp]], #16\n\t"
                    "vmladava.s8 %[a0], q0, q4\n\t"
                    "vmlsdava.s8 %[a1], q0, q4\n\t"
                    "vmladavax.s8 %[a2], q0, q4\n\t"
                    "vmlsdavax.s8 %[a3], q0, q4\n\t"
                    "vmladava.s8 %[b0], q1, q4\n\t"
                    "vmlsdava.s8 %[b1], q1, q4\n\t"
                    "vmladavax.s8 %[b2], q1, q4\n\t"
                    "vmlsdavax.s8 %[b3], q1, q4\n\t"
                    "vmladava.s8 %[a0], q2, q5\n\t"
                    "vmlsdava.s8 %[a1], q2, q5\n\t"
                    "vmladavax.s8 %[a2], q2, q5\n\t"
                    "vmlsdavax.s8 %[a3], q2, q5\n\t"
                    "vmladava.s8 %[b0], q3, q5\n\t"
                    "vmlsdava.s8 %[b1], q3, q5\n\t"
                    "vmladavax.s8 %[b2], q3, q5\n\t"
                    "vmlsdavax.s8 %[b3], q3, q5\n\t"
                    "subs %[n], %[n], #1\n\t"
                    "bne 1b"
                    : [a0] "+r"(r0), [a1] "+r"(r2), [a2] "+r"(r4), [a3] "+r"(r6), [b0] "+r"(r8), [b1] "+r"(r10),
                      [b2] "+r"(r12), [b3] "+r"(r14), [wp] "+r"(wp), [lp] "+r"(lp), [hp] "+r"(hp), [n] "+r"(chunks)
                    :
                    : "q0", "q1", "q2", "q3", "q4", "q5", "memory", "cc");
                a0 = r0;
                a1 = r2;
                a2 = r4;
                a3 = r6;
                b0 = r8;
                b1 = r10;
                b2 = r12;
                b3 = r14;
                q = (half >> 3) << 3;
            }
#else
            int32_t i;
            for (i = half >> 3; i > 0; i--, q += 8) {
                v = vld4q_s8(w + 8 * q);
                cl = vldrbq_s8(col + 2 * q);
                ch = vldrbq_s8(hi + 2 * q);
                TINYC_CONV_MVE_4X2();
            }
#endif
            if (q < half) {  /* the last pairs: VLD4's lanes as four predicated byte gathers, none past half */
                const mve_pred16_t live = vctp8q((uint32_t)(2 * (half - q)));
                const uint8x16_t by4 = vidupq_n_u8(0, 4);
                v.val[0] = vldrbq_gather_offset_z_s8(w + 8 * q, by4, live);
                v.val[1] = vldrbq_gather_offset_z_s8(w + 8 * q + 1, by4, live);
                v.val[2] = vldrbq_gather_offset_z_s8(w + 8 * q + 2, by4, live);
                v.val[3] = vldrbq_gather_offset_z_s8(w + 8 * q + 3, by4, live);
                cl = vldrbq_s8(col + 2 * q);
                ch = vldrbq_s8(hi + 2 * q);
                TINYC_CONV_MVE_4X2();
                q = half;
            }
#undef TINYC_CONV_MVE_4X2
        /* x = (a0, b0, a2, b2), y = (a1, b1, a3, b3): x + y is pixel 0's; pixel 1's from the swapped halves */
        x = vsetq_lane_s32(b2, vsetq_lane_s32(a2, vsetq_lane_s32(b0, vdupq_n_s32(a0), 1), 2), 3);
        y = vsetq_lane_s32(b3, vsetq_lane_s32(a3, vsetq_lane_s32(b1, vdupq_n_s32(a1), 1), 2), 3);
        xs = vsetq_lane_s32(b0, vsetq_lane_s32(a0, vsetq_lane_s32(b2, vdupq_n_s32(a2), 1), 2), 3);
        ys = vsetq_lane_s32(b1, vsetq_lane_s32(a1, vsetq_lane_s32(b3, vdupq_n_s32(a3), 1), 2), 3);
        if (two) {
            vstrbq_scatter_offset_s32(yp + 1, planes4,
                                      tinyc_mve_requantize4(&q4, vshrq_n_s32(vsubq_s32(xs, ys), 1)));
        }
        vstrbq_scatter_offset_s32(yp, planes4, tinyc_mve_requantize4(&q4, vshrq_n_s32(vaddq_s32(x, y), 1)));
    }
}

/* Pixel j's column of the window at (iy0, ix0), any geometry: taps outside x hold input_zp. */
static void tinyc_conv_mve_col_s8(const tinyc_conv_cols *c, int32_t iy0, int32_t ix0, int8_t *col)
{
    const int8_t zp = (int8_t)c->zp;
    int32_t ic, ky, kx;
    for (ic = 0; ic < c->cin_g; ic++) {
        const int8_t *xc = c->xg + (size_t)ic * c->in_plane;
        for (ky = 0; ky < c->kh; ky++) {
            const int32_t iy = iy0 + ky * c->dh;
            const int8_t *xr = xc + iy * c->in_w;
            for (kx = 0; kx < c->kw; kx++, col += 2) {
                const int32_t ix = ix0 + kx * c->dw;
                *col = iy >= 0 && iy < c->in_h && ix >= 0 && ix < c->in_w ? xr[ix] : zp;
            }
        }
    }
}

/* Both pixels' columns (windows at (iya, ixa), (iyb, ixb), any may reach outside x; dw = 1, KW <= 16,
 * KH <= 16): per kernel row one predicated load per window, the lanes of taps outside x (or of a row outside
 * x: no lane read) input_zp, and one interleaving VST2 of 32 bytes (the next row's overwrite the rest; the
 * last row's spill into the zero tail, with zeros). Each row's predicates are set once, before the channel
 * loop (no bounds tests per row). Addresses before a row are formed but never read. */
static void tinyc_conv_mve_cols_s8(const tinyc_conv_cols *c, int32_t iya, int32_t ixa, int32_t iyb, int32_t ixb,
                                   int8_t *col)
{
    const int8x16_t zp = vdupq_n_s8((int8_t)c->zp);
    const int32_t kw = c->kw, kh = c->kh, step = 2 * kw;
    mve_pred16_t pa[16], pb[16];
    int32_t lo, hi, ya_lo, ya_hi, yb_lo, yb_hi, ic, ky;
    mve_pred16_t la, lb;
    tinyc_conv_taps(ixa, c->in_w, kw, 1, &lo, &hi);
    la = lo < hi ? (mve_pred16_t)(vctp8q((uint32_t)hi) & ~vctp8q((uint32_t)lo)) : 0;
    tinyc_conv_taps(ixb, c->in_w, kw, 1, &lo, &hi);
    lb = lo < hi ? (mve_pred16_t)(vctp8q((uint32_t)hi) & ~vctp8q((uint32_t)lo)) : 0;
    tinyc_conv_taps(iya, c->in_h, kh, c->dh, &ya_lo, &ya_hi);
    tinyc_conv_taps(iyb, c->in_h, kh, c->dh, &yb_lo, &yb_hi);
    for (ky = 0; ky < kh; ky++) {
        pa[ky] = ky >= ya_lo && ky < ya_hi ? la : 0;
        pb[ky] = ky >= yb_lo && ky < yb_hi ? lb : 0;
    }
    for (ic = 0; ic < c->cin_g; ic++) {
        const uintptr_t plane = (uintptr_t)(c->xg + (size_t)ic * c->in_plane);
        uintptr_t ra = plane + (uintptr_t)(iya * c->in_w + ixa), rb = plane + (uintptr_t)(iyb * c->in_w + ixb);
        for (ky = 0; ky < kh; ky++) {
            int8x16x2_t v;
            v.val[0] = vpselq_s8(vldrbq_z_s8((const int8_t *)ra, pa[ky]), zp, pa[ky]);
            v.val[1] = vpselq_s8(vldrbq_z_s8((const int8_t *)rb, pb[ky]), zp, pb[ky]);
            vst2q_s8(col, v);
            __asm__("" : "+r"(col));  /* gcc 12 would fold the step into VST2 as a register write-back, which
                                       * VST2 does not have (assembler error) */
            col += step;
            ra += (uintptr_t)c->row_step;
            rb += (uintptr_t)c->row_step;
        }
    }
}

/* Both pixels' columns from windows inside x (dw = 1, KW <= 16) at xa, xb: as tinyc_conv_mve_cols_s8
 * without the bounds. */
static void tinyc_conv_mve_cols_inside_s8(const tinyc_conv_cols *c, const int8_t *xa, const int8_t *xb, int8_t *col)
{
    const mve_pred16_t taps = vctp8q((uint32_t)c->kw);
    const int32_t step = 2 * c->kw;
    int32_t ic, ky;
    for (ic = 0; ic < c->cin_g; ic++) {
        const int8_t *ra = xa + (size_t)ic * c->in_plane, *rb = xb + (size_t)ic * c->in_plane;
        for (ky = 0; ky < c->kh; ky++) {
            int8x16x2_t v;
            v.val[0] = vldrbq_z_s8(ra, taps);
            v.val[1] = vldrbq_z_s8(rb, taps);
            vst2q_s8(col, v);
            __asm__("" : "+r"(col));  /* as above */
            col += step;
            ra += c->row_step;
            rb += c->row_step;
        }
    }
}

/* tinyc_conv_run_s8 on Helium: output pixels in raster order two at a time (a lone last one paired with
 * itself, its copy's outputs dropped), their interleaved columns in col (2 k_padded + 32 bytes), then per
 * block of 4, 2, 1 output channels tinyc_conv_mve_block_s8 and the output tail (blocks of 4 on Helium).
 * Not inlined: its frame would add to the DSP path's stack. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_conv_mve_run_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias,
                                  int8_t *y, int8_t *col)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t kp = p->k_padded, half = kp >> 1, groups = g->groups;
    const int32_t cout_g = g->output.c / groups, out_w = g->output.w, out_plane = g->output.h * out_w;
    const int32_t span_h = (g->kernel_h - 1) * g->dilation_h, span_w = (g->kernel_w - 1) * g->dilation_w;
    const int8_t *w_end = (const int8_t *)(const void *)p->weights + (size_t)g->output.c * kp;
    tinyc_conv_cols c;
    tinyc_conv_outq q;
    int32_t n, grp, px, m, nb, i;
    c.in_h = g->input.h;
    c.in_w = g->input.w;
    c.in_plane = c.in_h * c.in_w;
    c.kh = g->kernel_h;
    c.kw = g->kernel_w;
    c.dh = g->dilation_h;
    c.dw = g->dilation_w;
    c.cin_g = g->input.c / groups;
    c.k = c.cin_g * c.kh * c.kw;
    c.half = half;
    c.row_step = c.dh * c.in_w;
    c.plane_step = c.in_plane - c.kh * c.row_step;
    c.zp = (int16_t)p->input_zp;
    q.input_zp = p->input_zp;
    q.output_zp = p->output_zp;
    q.act_min = p->clamp.min;
    q.act_max = p->clamp.max;
    q.multiplier = p->requant.multiplier;
    q.shift = p->requant.shift;
    q.weight_sums = p->weight_sums;
    q.bias = bias;
    memset(col + 2 * c.k, 0, (size_t)(2 * (kp - c.k) + TINYC_CONV_MVE_SLACK));
    for (n = 0; n < g->input.n; n++) {
        for (grp = 0; grp < groups; grp++) {
            const int8_t *wg = (const int8_t *)(const void *)(p->weights + (size_t)grp * cout_g * (kp >> 2));
            int8_t *yg = y + ((size_t)n * g->output.c + (size_t)grp * cout_g) * out_plane;
            c.xg = x + ((size_t)n * g->input.c + (size_t)grp * c.cin_g) * c.in_plane;
            for (px = 0; px < out_plane; px += 2) {
                const int two = px + 1 < out_plane;
                const int32_t pb = two ? px + 1 : px;
                const int32_t iya = (px / out_w) * g->stride_h - g->pad_top, ixa = (px % out_w) * g->stride_w - g->pad_left;
                const int32_t iyb = (pb / out_w) * g->stride_h - g->pad_top, ixb = (pb % out_w) * g->stride_w - g->pad_left;
                const int8_t *wr = wg;
                int8_t *yp = yg + px;
                int32_t s[8];
                if (c.dw == 1 && c.kw <= 16 && iya >= 0 && iyb >= 0 && iya + span_h < c.in_h && iyb + span_h < c.in_h
                    && ixa >= 0 && ixb >= 0 && ixa + span_w < c.in_w && ixb + span_w < c.in_w) {
                    tinyc_conv_mve_cols_inside_s8(&c, c.xg + iya * c.in_w + ixa, c.xg + iyb * c.in_w + ixb, col);
                } else if (c.dw == 1 && c.kw <= 16 && c.kh <= 16) {
                    tinyc_conv_mve_cols_s8(&c, iya, ixa, iyb, ixb, col);
                } else {
                    tinyc_conv_mve_col_s8(&c, iya, ixa, col);
                    tinyc_conv_mve_col_s8(&c, iyb, ixb, col + 1);
                }
                m = cout_g >> 2 << 2;
                if (m > 0) {
                    tinyc_conv_mve_blocks4_s8(p, bias, grp * cout_g, m >> 2, wr, col, half, yp, out_plane, two);
                    yp += m * out_plane;
                    wr += m * 2 * half;
                }
                for (; m < cout_g; m += nb) {
                    nb = cout_g - m >= 2 ? 2 : 1;
                    tinyc_conv_mve_block_s8(wr, col, half, nb, w_end, s);
                    for (i = 0; i < nb; i++) {
                        tinyc_conv_out2_s8(&q, grp * cout_g + m + i, s[2 * i], s[2 * i + 1], yp, two);
                        yp += out_plane;
                    }
                    wr += nb * half * 2;
                }
            }
        }
    }
}
#endif

/* tinyc_conv2d_s8 on the columns col (4 * k_padded int16, 4-byte aligned). */
static void tinyc_conv_run_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y,
                              int16_t *col)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t kp = p->k_padded, groups = g->groups, sw = g->stride_w;
    const int32_t cout_g = g->output.c / groups, out_plane = g->output.h * g->output.w;
    const int32_t span_h = (g->kernel_h - 1) * g->dilation_h, span_w = (g->kernel_w - 1) * g->dilation_w;
    tinyc_conv_cols c;
    int32_t n, grp, oy, ox, i, j;

    c.in_h = g->input.h;
    c.in_w = g->input.w;
    c.in_plane = c.in_h * c.in_w;
    c.kh = g->kernel_h;
    c.kw = g->kernel_w;
    c.dh = g->dilation_h;
    c.dw = g->dilation_w;
    c.cin_g = g->input.c / groups;
    c.k = c.cin_g * c.kh * c.kw;
    c.half = kp >> 1;
    c.row_step = c.dh * c.in_w;
    c.plane_step = c.in_plane - c.kh * c.row_step;
    c.zp = (int16_t)p->input_zp;
    for (i = c.k; i < kp; i++) {  /* the padded k have zero weights; any finite value would do */
        int16_t *d = tinyc_conv_slot_s8(col, c.half, i);
        for (j = 0; j < 4; j++) {
            d[2 * j] = 0;
        }
    }
    for (n = 0; n < g->input.n; n++) {
        for (grp = 0; grp < groups; grp++) {
            const int32_t *wg = p->weights + (size_t)grp * cout_g * (kp >> 2);
            int8_t *yp = y + ((size_t)n * g->output.c + (size_t)grp * cout_g) * out_plane;
            int32_t slot = 0;  /* the pixel slot whose column comes next */
            c.xg = x + ((size_t)n * g->input.c + (size_t)grp * c.cin_g) * c.in_plane;
            for (oy = 0; oy < g->output.h; oy++) {
                const int32_t iy0 = oy * g->stride_h - g->pad_top;
                const int rows_inside = iy0 >= 0 && iy0 + span_h < c.in_h && c.dw == 1;
                for (ox = 0; ox < g->output.w; ox++) {
                    const int32_t ix0 = ox * sw - g->pad_left;
                    if ((slot & 1) == 0 && rows_inside && ix0 >= 0 && ox + 1 < g->output.w
                        && ix0 + sw + span_w < c.in_w) {  /* a pair of inside windows */
                        tinyc_conv_col_inside_s8(&c, c.xg + iy0 * c.in_w + ix0, sw, col + 2 * slot, 1);
                        slot += 2;
                        ox++;
                    } else {
                        if (rows_inside && ix0 >= 0 && ix0 + span_w < c.in_w) {
                            tinyc_conv_col_inside_s8(&c, c.xg + iy0 * c.in_w + ix0, 0, col + 2 * slot, 0);
                        } else {
                            tinyc_conv_col_edge_s8(&c, iy0, ix0, col + 2 * slot);
                        }
                        slot++;
                    }
                    if (slot == 4) {  /* four columns: run them */
                        tinyc_conv_pixels_s8(p, bias, wg, col, yp, grp * cout_g, cout_g, out_plane, 4);
                        yp += 4;
                        slot = 0;
                    }
                }
            }
            if (slot > 0) {  /* the last pixels: the empty slots get finite copies, their outputs are dropped */
                for (i = 0; i < c.k; i++) {
                    int16_t *d = tinyc_conv_slot_s8(col, c.half, i);
                    for (j = slot; j < 4; j++) {
                        d[2 * j] = d[0];
                    }
                }
                tinyc_conv_pixels_s8(p, bias, wg, col, yp, grp * cout_g, cout_g, out_plane, slot);
            }
        }
    }
}

void tinyc_conv2d_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y,
                     void *scratch)
{
#if TINYC_HAS_MVE
    if (2 * p->k_padded + TINYC_CONV_MVE_SLACK <= 4 * p->k_padded) {  /* its columns fit the scratch (K >= 16) */
        tinyc_conv_mve_run_s8(p, x, bias, y, (int8_t *)scratch);
        return;
    }
#endif
    tinyc_conv_run_s8(p, x, bias, y, (int16_t *)scratch);
}

void tinyc_conv2d_smallk_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y)
{
#if TINYC_HAS_MVE
    /* Helium's columns: 2 k_padded + 32 bytes; the DSP fallback (k_padded < 16) needs 8 k_padded */
    int32_t col[(2 * TINYC_CONV_SMALLK + TINYC_CONV_MVE_SLACK) / 4];
#else
    int32_t col[TINYC_CONV_SMALLK * 2];  /* 4 * TINYC_CONV_SMALLK int16, word aligned */
#endif
    TINYC_ASSERT(p->k_padded <= TINYC_CONV_SMALLK);
#if TINYC_HAS_MVE
    if (2 * p->k_padded + TINYC_CONV_MVE_SLACK <= 4 * p->k_padded) {
        tinyc_conv_mve_run_s8(p, x, bias, y, (int8_t *)(void *)col);
        return;
    }
#endif
    tinyc_conv_run_s8(p, x, bias, y, (int16_t *)(void *)col);
}

#include "tinyc_conv_first.h"  /* tinyc_conv2d_first_s8: after the kernels it falls back on */

/* As tinyc_conv2d_s8 in float32; bias float (Co) or NULL. Scratch: 0. */
void tinyc_conv2d_f32(const tinyc_conv2d_f32_params *p, const float *x, const float *w,
                      const float *bias, float *y)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t in_h = g->input.h, in_w = g->input.w, out_h = g->output.h, out_w = g->output.w;
    const int32_t kh = g->kernel_h, kw = g->kernel_w, dh = g->dilation_h, dw = g->dilation_w;
    const int32_t cin_g = g->input.c / g->groups, cout_g = g->output.c / g->groups;
    const int32_t in_plane = in_h * in_w, out_plane = out_h * out_w;
    int32_t n, grp, oy, ox, m, ic, ky, kx;

    for (n = 0; n < g->input.n; n++) {
        for (grp = 0; grp < g->groups; grp++) {
            const float *xg = x + ((size_t)n * g->input.c + (size_t)grp * cin_g) * in_plane;
            float *yg = y + ((size_t)n * g->output.c + (size_t)grp * cout_g) * out_plane;
            for (oy = 0; oy < out_h; oy++) {
                const int32_t iy0 = oy * g->stride_h - g->pad_top;
                int32_t ky_lo, ky_hi;
                tinyc_conv_taps(iy0, in_h, kh, dh, &ky_lo, &ky_hi);
                for (ox = 0; ox < out_w; ox++) {
                    const int32_t ix0 = ox * g->stride_w - g->pad_left;
                    int32_t kx_lo, kx_hi, taps_w, x_start;
                    tinyc_conv_taps(ix0, in_w, kw, dw, &kx_lo, &kx_hi);
                    taps_w = kx_hi > kx_lo ? kx_hi - kx_lo : 0;
                    x_start = taps_w > 0 ? ix0 + kx_lo * dw : 0;  /* never point outside x or w */
                    kx_lo = taps_w > 0 ? kx_lo : 0;
                    for (m = 0; m < cout_g; m++) {
                        const int32_t oc = grp * cout_g + m;
                        const float *wc = w + (size_t)oc * cin_g * kh * kw;
                        float acc = bias ? bias[oc] : 0.0f;
                        for (ic = 0; ic < cin_g; ic++) {
                            const float *xc = xg + (size_t)ic * in_plane + x_start;
                            const float *wi = wc + ic * kh * kw + kx_lo;
                            for (ky = ky_lo; ky < ky_hi; ky++) {
                                const float *xr = xc + (iy0 + ky * dh) * in_w;
                                const float *wr = wi + ky * kw;
                                for (kx = 0; kx < taps_w; kx++) {
                                    acc += xr[kx * dw] * wr[kx];
                                }
                            }
                        }
                        yg[(size_t)m * out_plane + oy * out_w + ox] = tinyc_clamp_f32_value(acc, p->clamp);
                    }
                }
            }
        }
    }
}
