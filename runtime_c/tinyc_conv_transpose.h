/* tinyc_conv_transpose.h: grouped 2-D transposed convolution (ONNX ConvTranspose), float32.
 * Layout: x NCHW (a 1-D signal is N, C, 1, L), w (Ci, Co/groups, KH, KW), bias (Co) or NULL, y NCHW.
 * Output pixel (oy, ox) gathers input (iy, ix) through tap (ky, kx) where
 * oy = iy * stride_h + ky * dilation_h - pad_top (columns alike); pad_top/pad_left may be negative and
 * the output size is free (output_padding, output_shape), as geom.output says. Scratch: 0. */
#ifndef TINYC_CONV_TRANSPOSE_H
#define TINYC_CONV_TRANSPOSE_H

#include "tinyc_conv_common.h"

/* float32: y = clamp(bias[c] + sum x * w). */
typedef struct {
    tinyc_conv_geometry geom;
    tinyc_clamp_f32 clamp;
} tinyc_conv_transpose2d_f32_params;

void tinyc_conv_transpose2d_f32(const tinyc_conv_transpose2d_f32_params *p, const float *x, const float *w,
                                const float *bias, float *y);

/* int8 (TFLite TRANSPOSE_CONV, TFLM's reference rule): acc = sum (x - input_zp) * w in int32, + bias (int32,
 * saturating), requantized per output channel, + output_zp, clamped. w int8 (zero point 0). */
typedef struct {
    tinyc_conv_geometry geom;
    int32_t input_zp, output_zp;
    tinyc_requant_pc requant; /* one per output channel */
    tinyc_clamp clamp;
} tinyc_conv_transpose2d_s8_params;

void tinyc_conv_transpose2d_s8(const tinyc_conv_transpose2d_s8_params *p, const int8_t *x, const int8_t *w,
                               const int32_t *bias, int8_t *y);

#endif /* TINYC_CONV_TRANSPOSE_H */
