/* tinyc_depthwise.c: depthwise convolution kernels, portable C99, no scratch (loop order and
 * padding as tinyc_conv.c). */
#include "tinyc_depthwise.h"

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
