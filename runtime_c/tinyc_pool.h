/* tinyc_pool.h: max and average pooling, NCHW (a 1-D signal is h = 1), no scratch.
 * int8 output has the input's scale and zero point. y must not alias x. */
#ifndef TINYC_POOL_H
#define TINYC_POOL_H

#include "tinyc_common.h"

/* Window (oh, ow) covers input rows oh * stride_h - pad_top + [0, kernel_h), columns alike.
 * Max ignores pad taps. Average divides by the valid taps, or with count_include_pad by
 * the taps inside input plus explicit pads (a ceil_mode overhang never counts), as
 * onnxruntime; int8 average counts a pad tap as input_zp (real 0) and rounds the division
 * half away from zero, as TFLite's integer average pool. */
typedef struct {
    tinyc_shape4 input;
    int32_t output_h, output_w;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left, pad_bottom, pad_right;
    int32_t count_include_pad; /* 0 or 1, average pooling only */
    int32_t input_zp;          /* tinyc_avgpool_s8 only */
    int32_t dilation_h, dilation_w; /* _f32 only (the _s8 kernels take 1): taps at start + k * dilation */
} tinyc_pool_params;

void tinyc_maxpool_f32(const tinyc_pool_params *p, const float *x, float *y);
void tinyc_maxpool_s8(const tinyc_pool_params *p, const int8_t *x, int8_t *y);
void tinyc_avgpool_f32(const tinyc_pool_params *p, const float *x, float *y);
void tinyc_avgpool_s8(const tinyc_pool_params *p, const int8_t *x, int8_t *y);

#endif /* TINYC_POOL_H */
