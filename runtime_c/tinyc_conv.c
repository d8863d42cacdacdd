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
    tinyc_conv_run_s8(p, x, bias, y, (int16_t *)scratch);
}

void tinyc_conv2d_smallk_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y)
{
    int32_t col[TINYC_CONV_SMALLK * 2];  /* 4 * TINYC_CONV_SMALLK int16, word aligned */
    TINYC_ASSERT(p->k_padded <= TINYC_CONV_SMALLK);
    tinyc_conv_run_s8(p, x, bias, y, (int16_t *)(void *)col);
}

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
