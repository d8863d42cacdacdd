/* tinyc_conv.h: general 2-D convolution, any groups, strides, dilations and pads, int8 and float32.
 * Depthwise and 1x1 layers have their own families (tinyc_depthwise, tinyc_pointwise). */
#ifndef TINYC_CONV_H
#define TINYC_CONV_H

#include "tinyc_conv_common.h"

/* int8 general conv (any groups, strides, dilations, pads; depthwise and 1x1 have their own families).
 * K = Ci/groups * KH * KW, k_padded = K rounded up to a multiple of 4. */
typedef struct {
    tinyc_conv_geometry geom;
    int32_t input_zp;   /* in [-128, 127] */
    int32_t output_zp;  /* in [-128, 127] */
    tinyc_requant_pc requant;  /* one per output channel */
    tinyc_clamp clamp;  /* fused activation, int8 bounds */
    const int32_t *weight_sums;  /* per output channel: sum of its int8 weights (folds input_zp out of the loop) */
    int32_t k_padded;
    /* Co * k_padded / 4 words of 4 int8 in [-127, 127] (byte j = bits 8j..8j+7): w[oc] flattened
     * (Ci/groups, KH, KW), zero padded, each 4 k stored k0 k2 k1 k3 so that SXTB16 and SXTB16 ROR 8 give
     * the int16 pairs (k0, k1) and (k2, k3); in each group, channel pairs interleaved word by word
     * (a, b, a, b, ...), an odd last channel alone. */
    const int32_t *weights;
} tinyc_conv2d_im2col_s8_params;

/* x NCHW int8, bias int32 (Co) or NULL, y NCHW int8. sum (x - input_zp) * w stays in int32 for
 * K < 66000; the bias is added with saturation. Scratch: 4 * k_padded bytes (two int16 columns),
 * 4-byte aligned. */
void tinyc_conv2d_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y,
                     void *scratch);
/* Any groups, strides, dilations and pads, float32, bias float (Co) or NULL. Scratch: 0. */
void tinyc_conv2d_f32(const tinyc_conv2d_f32_params *p, const float *x, const float *w,
                      const float *bias, float *y);

#endif /* TINYC_CONV_H */
