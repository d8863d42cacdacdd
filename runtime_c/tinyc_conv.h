/* tinyc_conv.h: direct 2-D convolution (grouped and depthwise), int8 and float32.
 * Layout: activations NCHW (a 1-D signal is N, C, 1, L), weights (Co, Ci/groups, KH, KW),
 * bias (Co) or NULL. No scratch. */
#ifndef TINYC_CONV_H
#define TINYC_CONV_H

#include "tinyc_common.h"

/* Shapes and spatial attributes, shared by every conv kernel. The bottom/right pads are
 * implied by the output size; taps falling outside the input contribute real zero. */
typedef struct {
    tinyc_shape4 input;
    tinyc_shape4 output;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t dilation_h, dilation_w;
    int32_t groups;
} tinyc_conv_geometry;

/* int8: y = clamp(requantize(sat32(bias[c] + sum (x - input_zp) * w), multiplier[c], shift[c]) + output_zp).
 * Shared by tinyc_conv2d_s8 and tinyc_depthwise_conv2d_s8. */
typedef struct {
    tinyc_conv_geometry geom;
    int32_t input_zp;   /* in [-128, 127] */
    int32_t output_zp;  /* in [-128, 127] */
    tinyc_requant_pc requant;  /* one per output channel */
    tinyc_clamp clamp;  /* fused activation, int8 bounds */
    const int32_t *weight_sums;  /* per output channel: sum of its int8 weights (folds input_zp out of the loop) */
} tinyc_conv2d_s8_params;

/* float32: y = clamp(bias[c] + sum x * w). Shared by both float kernels. */
typedef struct {
    tinyc_conv_geometry geom;
    tinyc_clamp_f32 clamp;
} tinyc_conv2d_f32_params;

/* Any groups, strides, dilations and pads. Weights int8 symmetric in [-127, 127], bias int32. */
void tinyc_conv2d_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                     const int32_t *bias, int8_t *y);
/* Pointwise: kernel 1x1, stride 1, no pad, groups 1 (shapes as tinyc_conv2d_s8, w read as (Co, Ci)).
 * No arena scratch; the DSP build uses a 1 KiB stack buffer of input pairs when Ci <= 128. */
void tinyc_conv2d_1x1_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                         const int32_t *bias, int8_t *y);
void tinyc_conv2d_f32(const tinyc_conv2d_f32_params *p, const float *x, const float *w,
                      const float *bias, float *y);

/* groups == input channels; output channel c * mult + m (mult = Co / Ci) reads input channel c. */
void tinyc_depthwise_conv2d_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                               const int32_t *bias, int8_t *y);
void tinyc_depthwise_conv2d_f32(const tinyc_conv2d_f32_params *p, const float *x, const float *w,
                                const float *bias, float *y);

#endif /* TINYC_CONV_H */
