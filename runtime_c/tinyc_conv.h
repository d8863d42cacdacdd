/* tinyc_conv.h: direct 2-D convolution, any groups, strides, dilations and pads, int8 and float32.
 * Depthwise and 1x1 layers have their own families (tinyc_depthwise, tinyc_pointwise). */
#ifndef TINYC_CONV_H
#define TINYC_CONV_H

#include "tinyc_conv_common.h"

/* Any groups, strides, dilations and pads. Weights int8 symmetric in [-127, 127], bias int32. */
void tinyc_conv2d_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                     const int32_t *bias, int8_t *y);
void tinyc_conv2d_f32(const tinyc_conv2d_f32_params *p, const float *x, const float *w,
                      const float *bias, float *y);

#endif /* TINYC_CONV_H */
