/* tinyc_conv.c: general convolution. int8: im2col of two output pixels into int16 scratch, then
 * 2 output channels x 2 pixels per pass over the column (SMLAD on the DSP path, plain C otherwise,
 * same sums). float32: direct loops over the in-bounds taps (out-of-bounds taps add 0 * w). */
#include "tinyc_conv.h"

/* What the column fill needs of one group, computed once per call. */
typedef struct {
    const int8_t *xg;  /* the group's first input plane */
    int32_t in_h, in_w, in_plane, kh, kw, dh, dw, cin_g;
    int32_t row_step;    /* dh * in_w: from one kernel row to the next */
    int32_t plane_step;  /* in_plane - kh * row_step: from past the last kernel row to the next plane */
    int16_t zp;
} tinyc_conv_cols;

/* Column of a window inside x with dw == 1: col[(ic * KH + ky) * KW + kx] = x[ic][iy0 + ky dh][ix0 + kx],
 * xr pointing at x[0][iy0][ix0]. */
static void tinyc_conv_col_inside_s8(const tinyc_conv_cols *c, const int8_t *xr, int16_t *col)
{
    const int32_t kh = c->kh, kw = c->kw, row_step = c->row_step, plane_step = c->plane_step;
    int32_t ic, ky, kx;
    for (ic = c->cin_g; ic > 0; ic--) {
        if (kw == 3) {
            for (ky = kh; ky > 0; ky--) {
                col[0] = xr[0];
                col[1] = xr[1];
                col[2] = xr[2];
                col += 3;
                xr += row_step;
            }
        } else {
            for (ky = kh; ky > 0; ky--) {
                for (kx = 0; kx < kw; kx++) {
                    col[kx] = xr[kx];
                }
                col += kw;
                xr += row_step;
            }
        }
        xr += plane_step;
    }
}

/* Columns of two horizontally adjacent windows inside x (dw == 1, the second sw to the right):
 * one pass over the rows, the shared taps of a 3-wide, stride-1 row read once. */
static void tinyc_conv_col_inside2_s8(const tinyc_conv_cols *c, const int8_t *xr, int32_t sw, int16_t *c0, int16_t *c1)
{
    const int32_t kh = c->kh, kw = c->kw, row_step = c->row_step, plane_step = c->plane_step;
    int32_t ic, ky, kx;
    for (ic = c->cin_g; ic > 0; ic--) {
        if (kw == 3 && sw == 1) {
            for (ky = kh; ky > 0; ky--) {
                const int16_t b1 = xr[1], b2 = xr[2];
                c0[0] = xr[0];
                c0[1] = b1;
                c0[2] = b2;
                c1[0] = b1;
                c1[1] = b2;
                c1[2] = xr[3];
                c0 += 3;
                c1 += 3;
                xr += row_step;
            }
        } else {
            for (ky = kh; ky > 0; ky--) {
                for (kx = 0; kx < kw; kx++) {
                    c0[kx] = xr[kx];
                    c1[kx] = xr[kx + sw];
                }
                c0 += kw;
                c1 += kw;
                xr += row_step;
            }
        }
        xr += plane_step;
    }
}

/* Column of any window at (iy0, ix0) (top-left tap, may be outside x): filled with input_zp (taps
 * outside x, so the weight-sum correction stays exact), then the in-bounds taps copied over. */
static void tinyc_conv_col_edge_s8(const tinyc_conv_cols *c, int32_t iy0, int32_t ix0, int16_t *col)
{
    const int32_t kh = c->kh, kw = c->kw, dw = c->dw, k = c->cin_g * kh * kw;
    const uint32_t zp2 = (uint16_t)c->zp * 0x10001u;
    int32_t ky_lo, ky_hi, kx_lo, kx_hi, ic, ky, kx, i;
    tinyc_conv_taps(iy0, c->in_h, kh, c->dh, &ky_lo, &ky_hi);
    tinyc_conv_taps(ix0, c->in_w, kw, dw, &kx_lo, &kx_hi);
    for (i = 0; i + 1 < k; i += 2) {  /* col is 4-byte aligned */
        memcpy(col + i, &zp2, 4);
    }
    if (i < k) {
        col[i] = c->zp;
    }
    for (ic = 0; ic < c->cin_g && kx_lo < kx_hi; ic++) {  /* no pointer outside x when no tap is */
        for (ky = ky_lo; ky < ky_hi; ky++) {
            const int8_t *xr = c->xg + ic * c->in_plane + (iy0 + ky * c->dh) * c->in_w + ix0 + kx_lo * dw;
            int16_t *cr = col + (ic * kh + ky) * kw;
            for (kx = kx_lo; kx < kx_hi; kx++) {
                cr[kx] = *xr;
                xr += dw;
            }
        }
    }
}

/* The output constants, copied out of the params: stores to y (int8, may alias anything) would
 * otherwise reload them for every output. */
typedef struct {
    int32_t input_zp, output_zp;
    tinyc_clamp clamp;
    const int32_t *multiplier, *shift, *weight_sums, *bias;
} tinyc_conv_outq;

/* Two output pixels (s0, s1: raw sums x * w over the columns) of channel oc; the channel's constants
 * are read once for both. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void tinyc_conv_out2_s8(const tinyc_conv_outq *q, int32_t oc, int32_t s0, int32_t s1, int8_t *yp, int two)
{
    const int32_t offset = q->input_zp * q->weight_sums[oc];
    const int32_t mult = q->multiplier[oc], shift = q->shift[oc];
    int32_t a0 = s0 - offset, a1 = s1 - offset;
    if (q->bias) {
#if TINYC_HAS_DSP
        a0 = __qadd(a0, q->bias[oc]);  /* the saturating add of tinyc_add_bias_sat */
        a1 = __qadd(a1, q->bias[oc]);
#else
        a0 = tinyc_add_bias_sat(a0, q->bias, oc);
        a1 = tinyc_add_bias_sat(a1, q->bias, oc);
#endif
    }
    if (shift <= 0) {  /* the usual case, as its own copy: gcc drops the left-shift saturation from it */
        yp[0] = tinyc_requantize_s8(a0, mult, shift, q->output_zp, q->clamp);
        if (two) {
            yp[1] = tinyc_requantize_s8(a1, mult, shift, q->output_zp, q->clamp);
        }
    } else {
        yp[0] = tinyc_requantize_s8(a0, mult, shift, q->output_zp, q->clamp);
        if (two) {
            yp[1] = tinyc_requantize_s8(a1, mult, shift, q->output_zp, q->clamp);
        }
    }
}

#if !TINYC_HAS_DSP
/* Byte j of weight word v (little-endian lanes, whatever the host's byte order) as int8. */
static inline int32_t tinyc_conv_lane_s8(int32_t v, int j)
{
    return (int32_t)(int8_t)(uint8_t)((uint32_t)v >> (8 * j));
}

/* Sum over one k group: column c[0..3] times word v holding k0 k2 k1 k3. */
static inline int32_t tinyc_conv_dot4_s8(const int16_t *c, int32_t v)
{
    return c[0] * tinyc_conv_lane_s8(v, 0) + c[1] * tinyc_conv_lane_s8(v, 2) + c[2] * tinyc_conv_lane_s8(v, 1)
         + c[3] * tinyc_conv_lane_s8(v, 3);
}
#endif

/* Raw sums s = (w_a . c0, w_a . c1, w_b . c0, w_b . c1) of a channel pair over columns c0, c1 (int16,
 * 4-byte aligned); w holds the pair interleaved by 4 k: w_a[0..3], w_b[0..3], w_a[4..7], ..., each 4 as
 * k0 k2 k1 k3 in one little-endian word (SXTB16 gives (k0, k1), SXTB16 ROR 8 gives (k2, k3)). */
#if defined(__GNUC__)
__attribute__((noinline))  /* its own register allocation: inlined, gcc spills the accumulators */
#endif
static void tinyc_conv_dot_2x2_s8(const int32_t *w, const int16_t *c0, const int16_t *c1, int32_t kp,
                                      int32_t s[4])
{
    int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0, k;
#if TINYC_HAS_DSP
    /* One asm loop: gcc's own schedule of these 16 live values spills accumulators. Per 4 k: the
     * column words (c0 and c1 pairs), then each weight word widened by SXTB16 / SXTB16 ROR 8. */
    const int32_t *p0 = (const int32_t *)(const void *)c0, *p1 = (const int32_t *)(const void *)c1;
    int32_t v, t, a0, a1, b0, b1;
#define TINYC_CONV_ASM_STEP                           \
    "ldr %[a0], [%[p0]], #4\n\t"                      \
    "ldr %[a1], [%[p0]], #4\n\t"                      \
    "ldr %[b0], [%[p1]], #4\n\t"                      \
    "ldr %[b1], [%[p1]], #4\n\t"                      \
    "ldr %[v], [%[w]], #4\n\t"                        \
    "sxtb16 %[t], %[v]\n\t"                           \
    "sxtb16 %[v], %[v], ror #8\n\t"                   \
    "smlad %[s00], %[t], %[a0], %[s00]\n\t"           \
    "smlad %[s00], %[v], %[a1], %[s00]\n\t"           \
    "smlad %[s01], %[t], %[b0], %[s01]\n\t"           \
    "smlad %[s01], %[v], %[b1], %[s01]\n\t"           \
    "ldr %[v], [%[w]], #4\n\t"                        \
    "sxtb16 %[t], %[v]\n\t"                           \
    "sxtb16 %[v], %[v], ror #8\n\t"                   \
    "smlad %[s10], %[t], %[a0], %[s10]\n\t"           \
    "smlad %[s10], %[v], %[a1], %[s10]\n\t"           \
    "smlad %[s11], %[t], %[b0], %[s11]\n\t"           \
    "smlad %[s11], %[v], %[b1], %[s11]\n\t"
#define TINYC_CONV_ASM_OPERANDS                                                                                 \
    : [s00] "+r"(s00), [s01] "+r"(s01), [s10] "+r"(s10), [s11] "+r"(s11), [k] "+r"(k), [w] "+r"(w),             \
      [p0] "+r"(p0), [p1] "+r"(p1), [v] "=&r"(v), [t] "=&r"(t), [a0] "=&r"(a0), [a1] "=&r"(a1), [b0] "=&r"(b0), \
      [b1] "=&r"(b1)                                                                                           \
    :                                                                                                          \
    : "cc", "memory"
    k = kp >> 3;  /* 8 k per pass, then 4 if k_padded is not a multiple of 8 */
    if (k > 0) {
        __asm__("1:\n\t" TINYC_CONV_ASM_STEP TINYC_CONV_ASM_STEP "subs %[k], %[k], #1\n\t"
                "bne 1b" TINYC_CONV_ASM_OPERANDS);
    }
    if (kp & 4) {
        __asm__(TINYC_CONV_ASM_STEP TINYC_CONV_ASM_OPERANDS);
    }
#undef TINYC_CONV_ASM_STEP
#undef TINYC_CONV_ASM_OPERANDS
#else
    for (k = 0; k < kp; k += 4) {
        s00 += tinyc_conv_dot4_s8(c0 + k, w[0]);
        s01 += tinyc_conv_dot4_s8(c1 + k, w[0]);
        s10 += tinyc_conv_dot4_s8(c0 + k, w[1]);
        s11 += tinyc_conv_dot4_s8(c1 + k, w[1]);
        w += 2;
    }
#endif
    s[0] = s00;
    s[1] = s01;
    s[2] = s10;
    s[3] = s11;
}

/* Raw sums (w . c0, w . c1) of one channel (k_padded / 4 words, each k0 k2 k1 k3). */
static inline void tinyc_conv_dot_1x2_s8(const int32_t *w, const int16_t *c0, const int16_t *c1, int32_t kp,
                                      int32_t s[2])
{
    int32_t s0 = 0, s1 = 0, k;
#if TINYC_HAS_DSP
    const int32_t *p0 = (const int32_t *)(const void *)c0, *p1 = (const int32_t *)(const void *)c1;
    for (k = kp >> 2; k > 0; k--) {
        int32_t a0, a1, b0, b1;
        const int32_t va = *w++;
        const int32_t wl = __sxtb16(va), wh = tinyc_conv_sxtb16_odd(va);
        memcpy(&a0, p0++, 4);
        memcpy(&a1, p0++, 4);
        memcpy(&b0, p1++, 4);
        memcpy(&b1, p1++, 4);
        s0 = __smlad(wl, a0, s0);
        s0 = __smlad(wh, a1, s0);
        s1 = __smlad(wl, b0, s1);
        s1 = __smlad(wh, b1, s1);
    }
#else
    for (k = 0; k < kp; k += 4) {
        s0 += tinyc_conv_dot4_s8(c0 + k, *w);
        s1 += tinyc_conv_dot4_s8(c1 + k, *w);
        w++;
    }
#endif
    s[0] = s0;
    s[1] = s1;
}

/* Output pixels yp[0] (column c0) and yp[1] (column c1, when two) of the group's cout_g channels. */
static void tinyc_conv_pixels_s8(const tinyc_conv2d_im2col_s8_params *p, const int32_t *bias, const int32_t *wr,
                              const int16_t *c0, const int16_t *c1, int8_t *yp, int32_t oc, int32_t cout_g,
                              int32_t out_plane, int two)
{
    const int32_t kp = p->k_padded;
    tinyc_conv_outq q;
    int32_t m, s[4];
    q.input_zp = p->input_zp;
    q.output_zp = p->output_zp;
    q.clamp = p->clamp;
    q.multiplier = p->requant.multiplier;
    q.shift = p->requant.shift;
    q.weight_sums = p->weight_sums;
    q.bias = bias;
    for (m = cout_g >> 1; m > 0; m--) {
        tinyc_conv_dot_2x2_s8(wr, c0, c1, kp, s);
        tinyc_conv_out2_s8(&q, oc, s[0], s[1], yp, two);
        tinyc_conv_out2_s8(&q, oc + 1, s[2], s[3], yp + out_plane, two);
        wr += kp >> 1;
        yp += 2 * out_plane;
        oc += 2;
    }
    if (cout_g & 1) {
        tinyc_conv_dot_1x2_s8(wr, c0, c1, kp, s);
        tinyc_conv_out2_s8(&q, oc, s[0], s[1], yp, two);
    }
}

void tinyc_conv2d_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y,
                     void *scratch)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t kp = p->k_padded, groups = g->groups;
    const int32_t cout_g = g->output.c / groups, out_plane = g->output.h * g->output.w;
    const int32_t k = g->input.c / groups * g->kernel_h * g->kernel_w;
    const int32_t span_h = (g->kernel_h - 1) * g->dilation_h, span_w = (g->kernel_w - 1) * g->dilation_w;
    int16_t *col0 = (int16_t *)scratch, *col1 = col0 + kp;
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
    c.row_step = c.dh * c.in_w;
    c.plane_step = c.in_plane - c.kh * c.row_step;
    c.zp = (int16_t)p->input_zp;
    for (i = k; i < kp; i++) {  /* the padded k have zero weights; any finite value would do */
        col0[i] = 0;
        col1[i] = 0;
    }
    for (n = 0; n < g->input.n; n++) {
        for (grp = 0; grp < groups; grp++) {
            const int32_t *wg = p->weights + (size_t)grp * cout_g * (kp >> 2);
            int8_t *yp = y + ((size_t)n * g->output.c + (size_t)grp * cout_g) * out_plane;
            int16_t *col = col0;
            c.xg = x + ((size_t)n * g->input.c + (size_t)grp * c.cin_g) * c.in_plane;
            for (oy = 0; oy < g->output.h; oy++) {
                const int32_t iy0 = oy * g->stride_h - g->pad_top;
                const int rows_inside = iy0 >= 0 && iy0 + span_h < c.in_h && c.dw == 1;
                for (ox = 0; ox < g->output.w; ox++) {
                    const int32_t ix0 = ox * g->stride_w - g->pad_left;
                    if (col == col0 && rows_inside && ix0 >= 0 && ox + 1 < g->output.w
                        && ix0 + g->stride_w + span_w < c.in_w) {  /* a pair of inside windows */
                        tinyc_conv_col_inside2_s8(&c, c.xg + iy0 * c.in_w + ix0, g->stride_w, col0, col1);
                        tinyc_conv_pixels_s8(p, bias, wg, col0, col1, yp, grp * cout_g, cout_g, out_plane, 1);
                        yp += 2;
                        ox++;
                        continue;
                    }
                    if (rows_inside && ix0 >= 0 && ix0 + span_w < c.in_w) {
                        tinyc_conv_col_inside_s8(&c, c.xg + iy0 * c.in_w + ix0, col);
                    } else {
                        tinyc_conv_col_edge_s8(&c, iy0, ix0, col);
                    }
                    if (col == col1) {  /* two columns: run the pair */
                        tinyc_conv_pixels_s8(p, bias, wg, col0, col1, yp, grp * cout_g, cout_g, out_plane, 1);
                        yp += 2;
                        col = col0;
                    } else {
                        col = col1;
                    }
                }
            }
            if (col == col1) {  /* a lone last pixel runs as a pair with itself */
                tinyc_conv_pixels_s8(p, bias, wg, col0, col0, yp, grp * cout_g, cout_g, out_plane, 0);
            }
        }
    }
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
