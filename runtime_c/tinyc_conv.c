/* tinyc_conv.c: direct convolution kernels, portable C99, no scratch.
 * Loop order: output position outermost, so the valid kernel window (padding) is found once
 * per position and the inner loops run over in-bounds taps only; out-of-bounds taps would
 * add (input_zp - input_zp) * w = 0 in int8 and 0 * w in float, so skipping them is exact. */
#include "tinyc_conv.h"

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
