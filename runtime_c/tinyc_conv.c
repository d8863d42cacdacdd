/* tinyc_conv.c: direct convolution kernels, portable C99, no scratch.
 * Loop order: output position outermost, so the valid kernel window (padding) is found once
 * per position and the inner loops run over in-bounds taps only; out-of-bounds taps would
 * add (input_zp - input_zp) * w = 0 in int8 and 0 * w in float, so skipping them is exact. */
#include <string.h>

#include "tinyc_arch.h"
#include "tinyc_conv.h"

/* One int8 output channel's constants, read once per channel instead of once per output. */
typedef struct {
    int32_t bias, multiplier, shift;
} tinyc_conv_channel;

static tinyc_conv_channel tinyc_conv_channel_of_s8(const tinyc_conv2d_s8_params *p, const int32_t *bias, int32_t oc)
{
    tinyc_conv_channel ch;
    ch.bias = bias ? bias[oc] : 0;
    ch.multiplier = p->requant.multiplier[oc];
    ch.shift = p->requant.shift[oc];
    return ch;
}

/* bias (saturating add), requantization, zero point and clamp: ref_int8's tail, inlined in the hot
 * loops (a call per output costs more than a 9-tap sum). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int8_t tinyc_conv_finish_s8(const tinyc_conv2d_s8_params *p, const tinyc_conv_channel *ch, int32_t acc)
{
    acc = tinyc_add_bias_sat(acc, &ch->bias, 0);
    return tinyc_requantize_s8(acc, ch->multiplier, ch->shift, p->output_zp, p->clamp);
}

/* Taps k in [*lo, *hi) keep origin + k * dilation inside [0, size); empty when *lo >= *hi. */
static void tinyc_conv_taps(int32_t origin, int32_t size, int32_t kernel, int32_t dilation,
                            int32_t *lo, int32_t *hi)
{
    int32_t first = origin < 0 ? (dilation - 1 - origin) / dilation : 0;
    int32_t end = size - origin <= 0 ? 0 : (size - origin + dilation - 1) / dilation;
    *lo = first;
    *hi = end < kernel ? end : kernel;
}

/* x NCHW int8, w (Co, Ci/groups, KH, KW) int8 in [-127, 127], bias int32 (Co) or NULL, y NCHW int8.
 * sum (x - input_zp) * w stays in int32 for Ci/groups * KH * KW < 66000; the bias is added
 * with saturation. Scratch: 0. */
void tinyc_conv2d_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                     const int32_t *bias, int8_t *y)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t in_h = g->input.h, in_w = g->input.w, out_h = g->output.h, out_w = g->output.w;
    const int32_t kh = g->kernel_h, kw = g->kernel_w, dh = g->dilation_h, dw = g->dilation_w;
    const int32_t cin_g = g->input.c / g->groups, cout_g = g->output.c / g->groups;
    const int32_t in_plane = in_h * in_w, out_plane = out_h * out_w;
    const int32_t input_zp = p->input_zp;
    const int full_3x3 = kh == 3 && kw == 3 && dh == 1 && dw == 1;  /* interior windows take the unrolled sum */
    int32_t n, grp, oy, ox, m, ic, ky, kx;

    for (n = 0; n < g->input.n; n++) {
        for (grp = 0; grp < g->groups; grp++) {
            const int8_t *xg = x + ((size_t)n * g->input.c + (size_t)grp * cin_g) * in_plane;
            int8_t *yg = y + ((size_t)n * g->output.c + (size_t)grp * cout_g) * out_plane;
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
                        const int8_t *wc = w + (size_t)oc * cin_g * kh * kw;
                        int32_t acc = 0;
                        if (full_3x3 && ky_lo == 0 && ky_hi == 3 && taps_w == 3) {
                            /* Window inside x: 9 taps unrolled, input_zp folded into weight_sums (exact). */
                            const int8_t *xr = xg + (size_t)iy0 * in_w + ix0, *wr = wc;
                            for (ic = 0; ic < cin_g; ic++) {
                                acc += xr[0] * wr[0] + xr[1] * wr[1] + xr[2] * wr[2]
                                     + xr[in_w] * wr[3] + xr[in_w + 1] * wr[4] + xr[in_w + 2] * wr[5]
                                     + xr[2 * in_w] * wr[6] + xr[2 * in_w + 1] * wr[7] + xr[2 * in_w + 2] * wr[8];
                                xr += in_plane;
                                wr += 9;
                            }
                            acc -= input_zp * p->weight_sums[oc];
                        } else {
                            for (ic = 0; ic < cin_g; ic++) {
                                const int8_t *xc = xg + (size_t)ic * in_plane + x_start;
                                const int8_t *wi = wc + ic * kh * kw + kx_lo;
                                for (ky = ky_lo; ky < ky_hi; ky++) {
                                    const int8_t *xr = xc + (iy0 + ky * dh) * in_w;
                                    const int8_t *wr = wi + ky * kw;
                                    for (kx = 0; kx < taps_w; kx++) {
                                        acc += ((int32_t)xr[kx * dw] - input_zp) * wr[kx];
                                    }
                                }
                            }
                        }
                        acc = tinyc_add_bias_sat(acc, bias, oc);
                        yg[(size_t)m * out_plane + oy * out_w + ox] = tinyc_requantize_s8(
                            acc, p->requant.multiplier[oc], p->requant.shift[oc], p->output_zp, p->clamp);
                    }
                }
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

/* Depthwise 3x3, stride 1, dilation 1, pad 1 on every side, multiplier 1: one channel plane.
 * A missing row (top or bottom output row) gets zero weights and reads a valid row instead, so every
 * output is a 9-tap sum; a missing column (first or last output column) drops its 3 taps. The sum is
 * sum x * w - input_zp * (sum of the taps' weights): ref_int8's sum (x - input_zp) * w over the
 * in-bounds taps (padding is real zero), exact in int32 (9 * 255 * 127). */
static void tinyc_depthwise_3x3_plane_s8(const tinyc_conv2d_s8_params *p, const int8_t *xc, const int8_t *wc,
                                      const int32_t *bias, int32_t oc, int8_t *yc)
{
    const int32_t h = p->geom.input.h, wd = p->geom.input.w, zp = p->input_zp;
    const tinyc_conv_channel chan = tinyc_conv_channel_of_s8(p, bias, oc), *ch = &chan;
    int32_t oy, ox;
    for (oy = 0; oy < h; oy++) {
        const int32_t top = oy > 0, bottom = oy + 1 < h;
        const int8_t *r0 = xc + (oy - top) * wd, *r1 = xc + oy * wd, *r2 = xc + (oy + bottom) * wd;
        const int32_t w0 = top ? wc[0] : 0, w1 = top ? wc[1] : 0, w2 = top ? wc[2] : 0;
        const int32_t w3 = wc[3], w4 = wc[4], w5 = wc[5];
        const int32_t w6 = bottom ? wc[6] : 0, w7 = bottom ? wc[7] : 0, w8 = bottom ? wc[8] : 0;
        const int32_t left_sum = w0 + w3 + w6, mid_sum = w1 + w4 + w7, right_sum = w2 + w5 + w8;
        int8_t *yr = yc + oy * wd;
        if (wd == 1) {
            yr[0] = tinyc_conv_finish_s8(p, ch, w1 * r0[0] + w4 * r1[0] + w7 * r2[0] - zp * mid_sum);
            continue;
        }
        yr[0] = tinyc_conv_finish_s8(p, ch, w1 * r0[0] + w2 * r0[1] + w4 * r1[0] + w5 * r1[1]
                                                   + w7 * r2[0] + w8 * r2[1] - zp * (mid_sum + right_sum));
        {
            const int32_t zsum = zp * (left_sum + mid_sum + right_sum);
            for (ox = 1; ox + 1 < wd; ox++) {
                const int32_t acc = w0 * r0[ox - 1] + w1 * r0[ox] + w2 * r0[ox + 1]
                                  + w3 * r1[ox - 1] + w4 * r1[ox] + w5 * r1[ox + 1]
                                  + w6 * r2[ox - 1] + w7 * r2[ox] + w8 * r2[ox + 1];
                yr[ox] = tinyc_conv_finish_s8(p, ch, acc - zsum);
            }
        }
        ox = wd - 1;
        yr[ox] = tinyc_conv_finish_s8(p, ch, w0 * r0[ox - 1] + w1 * r0[ox] + w3 * r1[ox - 1] + w4 * r1[ox]
                                                    + w6 * r2[ox - 1] + w7 * r2[ox] - zp * (left_sum + mid_sum));
    }
}

/* groups == Ci; output channel oc = c * mult + m reads input channel c only; w (Co, 1, KH, KW)
 * int8, bias int32 (Co) or NULL. Scratch: 0. */
void tinyc_depthwise_conv2d_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                               const int32_t *bias, int8_t *y)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t in_h = g->input.h, in_w = g->input.w, out_h = g->output.h, out_w = g->output.w;
    const int32_t kh = g->kernel_h, kw = g->kernel_w, dh = g->dilation_h, dw = g->dilation_w;
    const int32_t channels = g->input.c, mult = g->output.c / g->input.c;
    const int32_t in_plane = in_h * in_w, out_plane = out_h * out_w;
    const int32_t input_zp = p->input_zp;
    const int same_3x3 = kh == 3 && kw == 3 && dh == 1 && dw == 1 && g->stride_h == 1 && g->stride_w == 1
                         && g->pad_top == 1 && g->pad_left == 1 && out_h == in_h && out_w == in_w && mult == 1;
    int32_t n, oy, ox, c, m, ky, kx;

    for (n = 0; n < g->input.n; n++) {
        const int8_t *xn = x + (size_t)n * channels * in_plane;
        int8_t *yn = y + (size_t)n * g->output.c * out_plane;
        if (same_3x3) {  /* the common MobileNet / DS-CNN case: a plane at a time, weights in registers */
            for (c = 0; c < channels; c++) {
                tinyc_depthwise_3x3_plane_s8(p, xn + (size_t)c * in_plane, w + (size_t)c * 9, bias, c,
                                          yn + (size_t)c * out_plane);
            }
            continue;
        }
        for (oy = 0; oy < out_h; oy++) {
            const int32_t iy0 = oy * g->stride_h - g->pad_top;
            int32_t ky_lo, ky_hi;
            tinyc_conv_taps(iy0, in_h, kh, dh, &ky_lo, &ky_hi);
            for (ox = 0; ox < out_w; ox++) {
                const int32_t ix0 = ox * g->stride_w - g->pad_left;
                const int32_t y_offset = oy * out_w + ox;
                int32_t kx_lo, kx_hi, taps_w, x_start;
                tinyc_conv_taps(ix0, in_w, kw, dw, &kx_lo, &kx_hi);
                taps_w = kx_hi > kx_lo ? kx_hi - kx_lo : 0;
                x_start = taps_w > 0 ? ix0 + kx_lo * dw : 0;  /* never point outside x or w */
                kx_lo = taps_w > 0 ? kx_lo : 0;
                for (c = 0; c < channels; c++) {
                    const int8_t *xc = xn + (size_t)c * in_plane + x_start;
                    for (m = 0; m < mult; m++) {
                        const int32_t oc = c * mult + m;
                        const int8_t *wc = w + (size_t)oc * kh * kw + kx_lo;
                        int32_t acc = 0;
                        for (ky = ky_lo; ky < ky_hi; ky++) {
                            const int8_t *xr = xc + (iy0 + ky * dh) * in_w;
                            const int8_t *wr = wc + ky * kw;
                            for (kx = 0; kx < taps_w; kx++) {
                                acc += ((int32_t)xr[kx * dw] - input_zp) * wr[kx];
                            }
                        }
                        acc = tinyc_add_bias_sat(acc, bias, oc);
                        yn[(size_t)oc * out_plane + y_offset] = tinyc_requantize_s8(
                            acc, p->requant.multiplier[oc], p->requant.shift[oc], p->output_zp, p->clamp);
                    }
                }
            }
        }
    }
}

/* As tinyc_depthwise_conv2d_s8 in float32; bias float (Co) or NULL. Scratch: 0. */
void tinyc_depthwise_conv2d_f32(const tinyc_conv2d_f32_params *p, const float *x, const float *w,
                                const float *bias, float *y)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t in_h = g->input.h, in_w = g->input.w, out_h = g->output.h, out_w = g->output.w;
    const int32_t kh = g->kernel_h, kw = g->kernel_w, dh = g->dilation_h, dw = g->dilation_w;
    const int32_t channels = g->input.c, mult = g->output.c / g->input.c;
    const int32_t in_plane = in_h * in_w, out_plane = out_h * out_w;
    int32_t n, oy, ox, c, m, ky, kx;

    for (n = 0; n < g->input.n; n++) {
        const float *xn = x + (size_t)n * channels * in_plane;
        float *yn = y + (size_t)n * g->output.c * out_plane;
        for (oy = 0; oy < out_h; oy++) {
            const int32_t iy0 = oy * g->stride_h - g->pad_top;
            int32_t ky_lo, ky_hi;
            tinyc_conv_taps(iy0, in_h, kh, dh, &ky_lo, &ky_hi);
            for (ox = 0; ox < out_w; ox++) {
                const int32_t ix0 = ox * g->stride_w - g->pad_left;
                const int32_t y_offset = oy * out_w + ox;
                int32_t kx_lo, kx_hi, taps_w, x_start;
                tinyc_conv_taps(ix0, in_w, kw, dw, &kx_lo, &kx_hi);
                taps_w = kx_hi > kx_lo ? kx_hi - kx_lo : 0;
                x_start = taps_w > 0 ? ix0 + kx_lo * dw : 0;  /* never point outside x or w */
                kx_lo = taps_w > 0 ? kx_lo : 0;
                for (c = 0; c < channels; c++) {
                    const float *xc = xn + (size_t)c * in_plane + x_start;
                    for (m = 0; m < mult; m++) {
                        const int32_t oc = c * mult + m;
                        const float *wc = w + (size_t)oc * kh * kw + kx_lo;
                        float acc = bias ? bias[oc] : 0.0f;
                        for (ky = ky_lo; ky < ky_hi; ky++) {
                            const float *xr = xc + (iy0 + ky * dh) * in_w;
                            const float *wr = wc + ky * kw;
                            for (kx = 0; kx < taps_w; kx++) {
                                acc += xr[kx * dw] * wr[kx];
                            }
                        }
                        yn[(size_t)oc * out_plane + y_offset] = tinyc_clamp_f32_value(acc, p->clamp);
                    }
                }
            }
        }
    }
}

#if TINYC_HAS_DSP
/* Four int8 lanes from any address (NCHW planes have odd sizes); one unaligned LDR on the M4. */
static inline int32_t tinyc_conv_load4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* __sxtb16 of the word rotated by 8: lanes 1, 3 as int16 (gcc does not fold a C rotate into it). */
static inline int32_t tinyc_conv_sxtb16_odd(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/* (lo16 of a, lo16 of b) and (hi16 of a, hi16 of b): PKHBT / PKHTB (gcc does not form them from C). */
static inline int32_t tinyc_conv_pack_lo(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
static inline int32_t tinyc_conv_pack_hi(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(b), "r"(a));
    return r;
}

/* One (plane pair, pixel quad) step: xa, xb = 4 pixels of planes ci and ci + 2 (or ci + 1, ci + 3),
 * wa, wb = (w[co][ci], w[co][ci + 2]) of the two output channels as int16 pairs. */
#define TINYC_CONV_1X1_STEP(ea, eb, oa, ob)                                              \
    do {                                                                              \
        int32_t v_ = tinyc_conv_pack_lo(ea, eb);                                      \
        a00 = __smlad(v_, wa, a00); a10 = __smlad(v_, wb, a10);                       \
        v_ = tinyc_conv_pack_hi(ea, eb);                                              \
        a02 = __smlad(v_, wa, a02); a12 = __smlad(v_, wb, a12);                       \
        v_ = tinyc_conv_pack_lo(oa, ob);                                              \
        a01 = __smlad(v_, wa, a01); a11 = __smlad(v_, wb, a11);                       \
        v_ = tinyc_conv_pack_hi(oa, ob);                                              \
        a03 = __smlad(v_, wa, a03); a13 = __smlad(v_, wb, a13);                       \
    } while (0)
#endif

#if TINYC_HAS_DSP
/* Input channels the stack buffer of tinyc_conv_1x1_buffered_s8 holds: 8 bytes each, 1 KiB of stack. */
#define TINYC_CONV_1X1_BUF_CI 128

/* Pixels [0, px_end) (a multiple of 4) of every output channel, Ci <= TINYC_CONV_1X1_BUF_CI.
 * Per 4 pixels the (x[ci][p], x[ci+2][p]) int16 pairs are built once into a stack buffer, then each
 * output channel reads them with one SMLAD per pair: the pairing work is shared by all Co. */
static void tinyc_conv_1x1_buffered_s8(const tinyc_conv2d_s8_params *p, const int8_t *xn, const int8_t *w,
                                    const int32_t *bias, int8_t *yn, int32_t px_end)
{
    const int32_t cin = p->geom.input.c, cout = p->geom.output.c;
    const int32_t plane = p->geom.input.h * p->geom.input.w, cin4 = cin & ~3;
    const int32_t input_zp = p->input_zp;
    int32_t pairs[2 * TINYC_CONV_1X1_BUF_CI];
    int32_t px, ci, co, i;

    for (px = 0; px < px_end; px += 4) {
        int32_t *bp = pairs;
        const int8_t *xp = xn + px;
        for (ci = 0; ci < cin4; ci += 4) {  /* [4 pixels of (ci, ci+2)], [4 pixels of (ci+1, ci+3)] */
            const int32_t q0 = tinyc_conv_load4(xp), q1 = tinyc_conv_load4(xp + plane);
            const int32_t q2 = tinyc_conv_load4(xp + 2 * plane), q3 = tinyc_conv_load4(xp + 3 * plane);
            int32_t e = __sxtb16(q0), f = __sxtb16(q2);
            bp[0] = tinyc_conv_pack_lo(e, f);
            bp[2] = tinyc_conv_pack_hi(e, f);
            e = tinyc_conv_sxtb16_odd(q0);
            f = tinyc_conv_sxtb16_odd(q2);
            bp[1] = tinyc_conv_pack_lo(e, f);
            bp[3] = tinyc_conv_pack_hi(e, f);
            e = __sxtb16(q1);
            f = __sxtb16(q3);
            bp[4] = tinyc_conv_pack_lo(e, f);
            bp[6] = tinyc_conv_pack_hi(e, f);
            e = tinyc_conv_sxtb16_odd(q1);
            f = tinyc_conv_sxtb16_odd(q3);
            bp[5] = tinyc_conv_pack_lo(e, f);
            bp[7] = tinyc_conv_pack_hi(e, f);
            bp += 8;
            xp += 4 * plane;
        }
        for (co = 0; co < cout; co++) {
            const int8_t *wc = w + (size_t)co * cin;
            const int32_t *pp = pairs;
            int32_t acc[4] = {0, 0, 0, 0};
            int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            for (ci = 0; ci < cin4; ci += 4) {
                const int32_t ww = tinyc_conv_load4(wc + ci);
                const int32_t we = __sxtb16(ww), wo = tinyc_conv_sxtb16_odd(ww);
                a0 = __smlad(pp[0], we, a0);
                a1 = __smlad(pp[1], we, a1);
                a2 = __smlad(pp[2], we, a2);
                a3 = __smlad(pp[3], we, a3);
                a0 = __smlad(pp[4], wo, a0);
                a1 = __smlad(pp[5], wo, a1);
                a2 = __smlad(pp[6], wo, a2);
                a3 = __smlad(pp[7], wo, a3);
                pp += 8;
            }
            acc[0] = a0;
            acc[1] = a1;
            acc[2] = a2;
            acc[3] = a3;
            for (; ci < cin; ci++) {  /* Ci % 4 */
                const int8_t *xr = xn + (size_t)ci * plane + px;
                const int32_t wv = wc[ci];
                for (i = 0; i < 4; i++) acc[i] += xr[i] * wv;
            }
            {
                const tinyc_conv_channel chan = tinyc_conv_channel_of_s8(p, bias, co);
                const int32_t zsum = input_zp * p->weight_sums[co];
                int8_t *yr = yn + (size_t)co * plane + px;
                for (i = 0; i < 4; i++) yr[i] = tinyc_conv_finish_s8(p, &chan, acc[i] - zsum);
            }
        }
    }
}
#endif

/* 1x1, stride 1, no pad, groups 1: y[co][p] = sum_ci w[co][ci] * x[ci][p] - input_zp * weight_sums[co].
 * x NCHW int8, w (Co, Ci) int8 in [-127, 127], weight_sums int32 (Co) = sum_ci w[co][ci], bias int32 (Co)
 * or NULL. Both sums stay in int32 for Ci < 66000 and their difference is ref_int8's exact sum.
 * DSP: 2 output channels x 4 pixels x 4 input channels per step, SMLAD on (x[ci][p], x[ci+2][p]) pairs
 * against (w[ci], w[ci+2]); remainders (Co % 2, pixels % 4, Ci % 4) run the portable loop. Scratch: 0. */
void tinyc_conv2d_1x1_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                         const int32_t *bias, int8_t *y)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t cin = g->input.c, cout = g->output.c, plane = g->input.h * g->input.w;
    const int32_t input_zp = p->input_zp;
    int32_t n, co, px, ci;

    for (n = 0; n < g->input.n; n++) {
        const int8_t *xn = x + (size_t)n * cin * plane;
        int8_t *yn = y + (size_t)n * cout * plane;
        int32_t co_fast = 0, px_fast = 0;
#if TINYC_HAS_DSP
        const int32_t plane2 = 2 * plane, plane3 = 3 * plane, plane4 = 4 * plane;
        co_fast = cout & ~1;
        px_fast = plane & ~3;
        if (cin <= TINYC_CONV_1X1_BUF_CI) {
            tinyc_conv_1x1_buffered_s8(p, xn, w, bias, yn, px_fast);
            co_fast = cout;  /* every channel's first px_fast pixels are done */
        }
        for (co = 0; co < co_fast && cin > TINYC_CONV_1X1_BUF_CI; co += 2) {
            const int8_t *w0 = w + (size_t)co * cin, *w1 = w0 + cin;
            for (px = 0; px < px_fast; px += 4) {
                int32_t a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0;
                const int8_t *xp = xn + px;
                int8_t *y0 = yn + (size_t)co * plane + px;
                for (ci = 0; ci + 3 < cin; ci += 4) {
                    const int32_t q0 = tinyc_conv_load4(xp), q2 = tinyc_conv_load4(xp + plane2);
                    const int32_t w0w = tinyc_conv_load4(w0 + ci), w1w = tinyc_conv_load4(w1 + ci);
                    int32_t wa = __sxtb16(w0w), wb = __sxtb16(w1w);
                    TINYC_CONV_1X1_STEP(__sxtb16(q0), __sxtb16(q2), tinyc_conv_sxtb16_odd(q0),
                                        tinyc_conv_sxtb16_odd(q2));
                    {
                        const int32_t q1 = tinyc_conv_load4(xp + plane), q3 = tinyc_conv_load4(xp + plane3);
                        wa = tinyc_conv_sxtb16_odd(w0w);
                        wb = tinyc_conv_sxtb16_odd(w1w);
                        TINYC_CONV_1X1_STEP(__sxtb16(q1), __sxtb16(q3), tinyc_conv_sxtb16_odd(q1),
                                            tinyc_conv_sxtb16_odd(q3));
                    }
                    xp += plane4;
                }
                for (; ci < cin; ci++) {
                    const int32_t wa = w0[ci], wb = w1[ci];
                    a00 += xp[0] * wa; a01 += xp[1] * wa; a02 += xp[2] * wa; a03 += xp[3] * wa;
                    a10 += xp[0] * wb; a11 += xp[1] * wb; a12 += xp[2] * wb; a13 += xp[3] * wb;
                    xp += plane;
                }
                {
                    const int32_t acc[2][4] = {{a00, a01, a02, a03}, {a10, a11, a12, a13}};
                    int32_t j, i;
                    for (j = 0; j < 2; j++) {
                        const tinyc_conv_channel chan = tinyc_conv_channel_of_s8(p, bias, co + j);
                        const int32_t zsum = input_zp * p->weight_sums[co + j];
                        for (i = 0; i < 4; i++) {
                            y0[(size_t)j * plane + i] = tinyc_conv_finish_s8(p, &chan, acc[j][i] - zsum);
                        }
                    }
                }
            }
        }
#endif
        /* Portable: every output the DSP block did not write (all of them without DSP). */
        for (co = 0; co < cout; co++) {
            const int8_t *wc = w + (size_t)co * cin;
            const int32_t zsum = input_zp * p->weight_sums[co];
            const tinyc_conv_channel chan = tinyc_conv_channel_of_s8(p, bias, co);
            for (px = co < co_fast ? px_fast : 0; px < plane; px++) {
                const int8_t *xp = xn + px;
                int32_t acc = 0;
                for (ci = 0; ci < cin; ci++) {
                    acc += xp[0] * wc[ci];
                    xp += plane;
                }
                yn[(size_t)co * plane + px] = tinyc_conv_finish_s8(p, &chan, acc - zsum);
            }
        }
    }
}
