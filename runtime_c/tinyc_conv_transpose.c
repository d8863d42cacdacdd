/* tinyc_conv_transpose.c: see tinyc_conv_transpose.h. Portable C99, no scratch: each output pixel
 * gathers the inputs that reach it (no scatter, so y is written once, in order). */
#include "tinyc_conv_transpose.h"

/* The input index a tap reaches output position o from, or -1 when none: (o + pad - k * d) must be a
 * multiple of the stride and land inside [0, size). */
static int32_t tinyc_convt_source(int32_t o, int32_t pad, int32_t k, int32_t d, int32_t stride, int32_t size)
{
    const int32_t num = o + pad - k * d;
    int32_t i;
    if (num < 0 || num % stride != 0) {
        return -1;
    }
    i = num / stride;
    return i < size ? i : -1;
}

void tinyc_conv_transpose2d_f32(const tinyc_conv_transpose2d_f32_params *p, const float *x, const float *w,
                                const float *bias, float *y)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t ci_g = g->input.c / g->groups, co_g = g->output.c / g->groups;
    const int32_t kh = g->kernel_h, kw = g->kernel_w;
    const int32_t in_plane = g->input.h * g->input.w;
    int32_t n, oc, oy, ox, ic, ky, kx;
    for (n = 0; n < g->input.n; n++) {
        const float *xn = x + n * g->input.c * in_plane;
        for (oc = 0; oc < g->output.c; oc++) {
            const int32_t grp = oc / co_g, oc_g = oc % co_g;
            const float b = bias ? bias[oc] : 0.0f;
            for (oy = 0; oy < g->output.h; oy++) {
                for (ox = 0; ox < g->output.w; ox++) {
                    float acc = b;
                    for (ky = 0; ky < kh; ky++) {
                        const int32_t iy = tinyc_convt_source(oy, g->pad_top, ky, g->dilation_h, g->stride_h,
                                                              g->input.h);
                        if (iy < 0) {
                            continue;
                        }
                        for (kx = 0; kx < kw; kx++) {
                            const int32_t ix = tinyc_convt_source(ox, g->pad_left, kx, g->dilation_w,
                                                                  g->stride_w, g->input.w);
                            if (ix < 0) {
                                continue;
                            }
                            for (ic = 0; ic < ci_g; ic++) {
                                const int32_t c = grp * ci_g + ic;
                                acc += xn[c * in_plane + iy * g->input.w + ix]
                                       * w[((c * co_g + oc_g) * kh + ky) * kw + kx];
                            }
                        }
                    }
                    *y++ = tinyc_clamp_f32_value(acc, p->clamp);
                }
            }
        }
    }
}

void tinyc_conv_transpose2d_s8(const tinyc_conv_transpose2d_s8_params *p, const int8_t *x, const int8_t *w,
                               const int32_t *bias, int8_t *y)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t ci_g = g->input.c / g->groups, co_g = g->output.c / g->groups;
    const int32_t kh = g->kernel_h, kw = g->kernel_w;
    const int32_t in_plane = g->input.h * g->input.w;
    int32_t n, oc, oy, ox, ic, ky, kx;
    for (n = 0; n < g->input.n; n++) {
        const int8_t *xn = x + n * g->input.c * in_plane;
        for (oc = 0; oc < g->output.c; oc++) {
            const int32_t grp = oc / co_g, oc_g = oc % co_g;
            for (oy = 0; oy < g->output.h; oy++) {
                for (ox = 0; ox < g->output.w; ox++) {
                    int32_t acc = 0;
                    for (ky = 0; ky < kh; ky++) {
                        const int32_t iy = tinyc_convt_source(oy, g->pad_top, ky, g->dilation_h, g->stride_h,
                                                              g->input.h);
                        if (iy < 0) {
                            continue;
                        }
                        for (kx = 0; kx < kw; kx++) {
                            const int32_t ix = tinyc_convt_source(ox, g->pad_left, kx, g->dilation_w,
                                                                  g->stride_w, g->input.w);
                            if (ix < 0) {
                                continue;
                            }
                            for (ic = 0; ic < ci_g; ic++) {
                                const int32_t c = grp * ci_g + ic;
                                acc += ((int32_t)xn[c * in_plane + iy * g->input.w + ix] - p->input_zp)
                                       * w[((c * co_g + oc_g) * kh + ky) * kw + kx];
                            }
                        }
                    }
                    acc = tinyc_add_bias_sat(acc, bias, oc);
                    *y++ = tinyc_requantize_s8(acc, p->requant.multiplier[oc], p->requant.shift[oc],
                                               p->output_zp, p->clamp);
                }
            }
        }
    }
}
