/* tinyc_pointwise.h: 1x1 convolution, int8. */
#ifndef TINYC_POINTWISE_H
#define TINYC_POINTWISE_H

#include "tinyc_conv_common.h"

/* Pointwise: kernel 1x1, stride 1, no pad, groups 1 (shapes as tinyc_conv2d_s8, w read as (Co, Ci)).
 * No arena scratch; the DSP build uses a 1 KiB stack buffer of input pairs when Ci <= 128. */
void tinyc_conv2d_1x1_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                         const int32_t *bias, int8_t *y);
/* The same with the DSP pair buffer (8 pixels) in scratch: 16 * Ci bytes (tinyc picks it for Ci > 64). */
void tinyc_conv2d_1x1_wide_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                              const int32_t *bias, int8_t *y, void *scratch);

#endif /* TINYC_POINTWISE_H */
