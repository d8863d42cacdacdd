/* tinyc_conv.c: general convolution. int8: im2col of two output pixels into int16 scratch, then
 * 4 (or 2, 1) output channels x 2 pixels per pass over the columns (SMLAD on the DSP path, plain C
 * otherwise, same sums). float32: direct loops over the in-bounds taps (out-of-bounds taps add 0 * w).
 *
 * int8 column layout (K = Ci/groups * KH * KW in (ic, ky, kx) order, k_padded = K rounded up to 4,
 * half = k_padded / 2): k and k + half share an int16 pair, the two pixels' pairs alternate:
 * int16 col[4 q + 2 j + h] = x_j[q + h * half] (pixel j, pair q < half). One LDRD gives both pixels'
 * pair q; column writes go with a stride of 4 int16, and k in [K, k_padded) stay 0. */
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

#if !TINYC_HAS_DSP
/* Byte j of weight word v (little-endian lanes, whatever the host's byte order) as int8. */
static inline int32_t tinyc_conv_lane_s8(int32_t v, int j)
{
    return (int32_t)(int8_t)(uint8_t)((uint32_t)v >> (8 * j));
}

/* Pair c[0], c[1] times weight lanes lo, hi of v. */
static inline int32_t tinyc_conv_pair_s8(const int16_t *c, int32_t v, int lo, int hi)
{
    return c[0] * tinyc_conv_lane_s8(v, lo) + c[1] * tinyc_conv_lane_s8(v, hi);
}
#endif

#if TINYC_HAS_DSP
/* One pair q of 2 channels x 2 pixels: LDRD gives both pixels' column words, the weight word widens
 * to channel c0's pair (SXTB16) and c1's (SXTB16 ROR 8); the next weight word is WSTEP bytes on. */
#define TINYC_CONV_ASM_PAIR(WSTEP)                  \
    "ldrd %[a], %[b], [%[c]], #8\n\t"               \
    "ldr %[v], [%[w]], #" #WSTEP "\n\t"             \
    "sxtb16 %[t], %[v]\n\t"                         \
    "smlad %[s00], %[t], %[a], %[s00]\n\t"          \
    "smlad %[s01], %[t], %[b], %[s01]\n\t"          \
    "sxtb16 %[v], %[v], ror #8\n\t"                 \
    "smlad %[s10], %[v], %[a], %[s10]\n\t"          \
    "smlad %[s11], %[v], %[b], %[s11]\n\t"
#define TINYC_CONV_ASM_LOOP(WSTEP)                                                                  \
    __asm__("1:\n\t" TINYC_CONV_ASM_PAIR(WSTEP) TINYC_CONV_ASM_PAIR(WSTEP)                         \
            "cmp %[c], %[end]\n\t"                                                                \
            "bne 1b"                                                                              \
            : [s00] "+r"(s00), [s01] "+r"(s01), [s10] "+r"(s10), [s11] "+r"(s11), [w] "+r"(w),      \
              [c] "+r"(c), [v] "=&r"(v), [t] "=&r"(t), [a] "=&r"(a), [b] "=&r"(b)                   \
            : [end] "r"(end)                                                                      \
            : "cc", "memory")

/* s[0..3] = channel c0 pixel 0, c0 pixel 1, c1 pixel 0, c1 pixel 1 over `half` pairs (even, > 0), the
 * weight words wstep (4 or 8) bytes apart. An asm loop because gcc spills the intrinsics' accumulators;
 * 11 registers, so it also builds in -O0 debug builds and with a frame pointer (a 4-channel loop
 * would need 14). */
static void tinyc_conv_smlad_2x2_s8(const int32_t *w, const int16_t *col, int32_t half, int wstep, int32_t s[4])
{
    int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0, v, t, a, b;
    const int32_t *c = (const int32_t *)(const void *)col;
    const int32_t *const end = c + 2 * half;
    if (wstep == 8) {
        TINYC_CONV_ASM_LOOP(8);
    } else {
        TINYC_CONV_ASM_LOOP(4);
    }
    s[0] = s00;
    s[1] = s01;
    s[2] = s10;
    s[3] = s11;
}
#undef TINYC_CONV_ASM_LOOP
#undef TINYC_CONV_ASM_PAIR
#endif

/* Raw sums s[2 m + j] (channel m of 4, pixel j) over the interleaved columns. w per pair q: the word
 * (c0 q, c1 q, c0 q + half, c1 q + half), then the same for c2, c3 (SXTB16 gives channel c0's pair,
 * SXTB16 ROR 8 channel c1's). */
static void tinyc_conv_dot_4x2_s8(const int32_t *w, const int16_t *col, int32_t half, int32_t s[8])
{
#if TINYC_HAS_DSP
    tinyc_conv_smlad_2x2_s8(w, col, half, 8, s);
    tinyc_conv_smlad_2x2_s8(w + 1, col, half, 8, s + 4);
#else
    int32_t q, i;
    for (i = 0; i < 8; i++) {
        s[i] = 0;
    }
    for (q = 0; q < half; q++) {
        s[0] += tinyc_conv_pair_s8(col, w[0], 0, 2);
        s[1] += tinyc_conv_pair_s8(col + 2, w[0], 0, 2);
        s[2] += tinyc_conv_pair_s8(col, w[0], 1, 3);
        s[3] += tinyc_conv_pair_s8(col + 2, w[0], 1, 3);
        s[4] += tinyc_conv_pair_s8(col, w[1], 0, 2);
        s[5] += tinyc_conv_pair_s8(col + 2, w[1], 0, 2);
        s[6] += tinyc_conv_pair_s8(col, w[1], 1, 3);
        s[7] += tinyc_conv_pair_s8(col + 2, w[1], 1, 3);
        col += 4;
        w += 2;
    }
#endif
}

/* As tinyc_conv_dot_4x2_s8 for 2 channels: one word per pair q. */
static void tinyc_conv_dot_2x2_s8(const int32_t *w, const int16_t *col, int32_t half, int32_t s[4])
{
#if TINYC_HAS_DSP
    tinyc_conv_smlad_2x2_s8(w, col, half, 4, s);
#else
    int32_t q;
    s[0] = s[1] = s[2] = s[3] = 0;
    for (q = 0; q < half; q++) {
        s[0] += tinyc_conv_pair_s8(col, *w, 0, 2);
        s[1] += tinyc_conv_pair_s8(col + 2, *w, 0, 2);
        s[2] += tinyc_conv_pair_s8(col, *w, 1, 3);
        s[3] += tinyc_conv_pair_s8(col + 2, *w, 1, 3);
        col += 4;
        w++;
    }
#endif
}

/* As tinyc_conv_dot_4x2_s8 for 1 channel: one word per two pairs q, q + 1, as
 * (w q, w q + 1, w q + half, w q + 1 + half): SXTB16 gives pair q's weights, SXTB16 ROR 8 pair q + 1's. */
static void tinyc_conv_dot_1x2_s8(const int32_t *w, const int16_t *col, int32_t half, int32_t s[2])
{
    int32_t s0 = 0, s1 = 0, q;
#if TINYC_HAS_DSP
    const int32_t *c = (const int32_t *)(const void *)col;
    for (q = half >> 1; q > 0; q--) {
        int32_t v = *w++;
        const int32_t t = __sxtb16(v);
        v = tinyc_sxtb16_odd(v);
        s0 = __smlad(t, c[0], s0);
        s1 = __smlad(t, c[1], s1);
        s0 = __smlad(v, c[2], s0);
        s1 = __smlad(v, c[3], s1);
        c += 4;
    }
#else
    for (q = 0; q < half; q += 2) {
        s0 += tinyc_conv_pair_s8(col, *w, 0, 2) + tinyc_conv_pair_s8(col + 4, *w, 1, 3);
        s1 += tinyc_conv_pair_s8(col + 2, *w, 0, 2) + tinyc_conv_pair_s8(col + 6, *w, 1, 3);
        col += 8;
        w++;
    }
#endif
    s[0] = s0;
    s[1] = s1;
}

/* Output pixels yp[0] and yp[1] (when two) of the group's cout_g channels: blocks of 4, then 2, then 1. */
static void tinyc_conv_pixels_s8(const tinyc_conv2d_im2col_s8_params *p, const int32_t *bias, const int32_t *wr,
                                 const int16_t *col, int8_t *yp, int32_t oc, int32_t cout_g, int32_t out_plane,
                                 int two)
{
    const int32_t half = p->k_padded >> 1;
    tinyc_conv_outq q;
    int32_t m, n, i, s[8];
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
            tinyc_conv_dot_4x2_s8(wr, col, half, s);
        } else if (n == 2) {
            tinyc_conv_dot_2x2_s8(wr, col, half, s);
        } else {
            tinyc_conv_dot_1x2_s8(wr, col, half, s);
        }
        for (i = 0; i < n; i++) {  /* one copy of the output code: kws_dscnn's kernels must fit 12 KB */
            tinyc_conv_out2_s8(&q, oc + i, s[2 * i], s[2 * i + 1], yp, two != 0);
            yp += out_plane;
        }
        wr += n * (half >> 1);
        oc += n;
    }
}

/* tinyc_conv2d_s8 on the columns col (2 * k_padded int16, 4-byte aligned). */
static void tinyc_conv_run_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y,
                              int16_t *col)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t kp = p->k_padded, groups = g->groups, sw = g->stride_w;
    const int32_t cout_g = g->output.c / groups, out_plane = g->output.h * g->output.w;
    const int32_t span_h = (g->kernel_h - 1) * g->dilation_h, span_w = (g->kernel_w - 1) * g->dilation_w;
    tinyc_conv_cols c;
    int32_t n, grp, oy, ox, i;

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
        d[0] = 0;
        d[2] = 0;
    }
    for (n = 0; n < g->input.n; n++) {
        for (grp = 0; grp < groups; grp++) {
            const int32_t *wg = p->weights + (size_t)grp * cout_g * (kp >> 2);
            int8_t *yp = y + ((size_t)n * g->output.c + (size_t)grp * cout_g) * out_plane;
            int32_t j = 0;  /* the pixel whose column comes next */
            c.xg = x + ((size_t)n * g->input.c + (size_t)grp * c.cin_g) * c.in_plane;
            for (oy = 0; oy < g->output.h; oy++) {
                const int32_t iy0 = oy * g->stride_h - g->pad_top;
                const int rows_inside = iy0 >= 0 && iy0 + span_h < c.in_h && c.dw == 1;
                for (ox = 0; ox < g->output.w; ox++) {
                    const int32_t ix0 = ox * sw - g->pad_left;
                    if (j == 0 && rows_inside && ix0 >= 0 && ox + 1 < g->output.w && ix0 + sw + span_w < c.in_w) {
                        /* a pair of inside windows */
                        tinyc_conv_col_inside_s8(&c, c.xg + iy0 * c.in_w + ix0, sw, col, 1);
                        tinyc_conv_pixels_s8(p, bias, wg, col, yp, grp * cout_g, cout_g, out_plane, 1);
                        yp += 2;
                        ox++;
                        continue;
                    }
                    if (rows_inside && ix0 >= 0 && ix0 + span_w < c.in_w) {
                        tinyc_conv_col_inside_s8(&c, c.xg + iy0 * c.in_w + ix0, 0, col + 2 * j, 0);
                    } else {
                        tinyc_conv_col_edge_s8(&c, iy0, ix0, col + 2 * j);
                    }
                    if (j == 1) {  /* two columns: run the pair */
                        tinyc_conv_pixels_s8(p, bias, wg, col, yp, grp * cout_g, cout_g, out_plane, 1);
                        yp += 2;
                    }
                    j ^= 1;
                }
            }
            if (j == 1) {  /* a lone last pixel: pixel 1 gets a finite copy of it, its outputs are dropped */
                for (i = 0; i < c.k; i++) {
                    int16_t *d = tinyc_conv_slot_s8(col, c.half, i);
                    d[2] = d[0];
                }
                tinyc_conv_pixels_s8(p, bias, wg, col, yp, grp * cout_g, cout_g, out_plane, 0);
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
    int32_t col[TINYC_CONV_SMALLK / 2 * 2];  /* 2 * TINYC_CONV_SMALLK int16, word aligned */
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
