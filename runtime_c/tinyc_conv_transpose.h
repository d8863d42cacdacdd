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

#endif /* TINYC_CONV_TRANSPOSE_H */
