/* tinyc_depthwise.h: depthwise 2-D convolution (groups == input channels), int8 and float32. */
#ifndef TINYC_DEPTHWISE_H
#define TINYC_DEPTHWISE_H

#include "tinyc_conv_common.h"

/* groups == input channels; output channel c * mult + m (mult = Co / Ci) reads input channel c. */
void tinyc_depthwise_conv2d_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                               const int32_t *bias, int8_t *y);
/* 3x3, dilation 1, strides 1 or 2: the same result through padded rows; scratch 4 * R bytes (tinyc_depthwise.c). */
void tinyc_depthwise_3x3_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                            const int32_t *bias, int8_t *y, void *scratch);
/* The same with its scratch (at most TINYC_DW_STACK_BYTES) on the stack: no arena scratch. */
#define TINYC_DW_STACK_BYTES 1024
void tinyc_depthwise_3x3_small_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                                  const int32_t *bias, int8_t *y);
/* Any geometry through gathered int16-pair columns; scratch 4 * P * (C + 1) bytes (tinyc_depthwise.c). */
void tinyc_depthwise_cols_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                             const int32_t *bias, int8_t *y, void *scratch);
/* The same with its scratch (at most TINYC_DW_STACK_BYTES + 256) on the stack: no arena scratch. */
void tinyc_depthwise_cols_small_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                                   const int32_t *bias, int8_t *y);
void tinyc_depthwise_conv2d_f32(const tinyc_conv2d_f32_params *p, const float *x, const float *w,
                                const float *bias, float *y);

#endif /* TINYC_DEPTHWISE_H */
