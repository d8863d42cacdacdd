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
     * (Ci/groups, KH, KW) and zero padded, k paired with k + half (half = k_padded / 2). Per group,
     * blocks of 4 channels, then 2, then 1: per pair q a block of 4 holds (c0[q], c1[q], c0[q + half],
     * c1[q + half]) and the same for c2, c3 (SXTB16 gives c0's int16 pair, SXTB16 ROR 8 c1's); a block
     * of 2 the first word; a lone channel, per pairs q, q + 1, (w[q], w[q + 1], w[q + half],
     * w[q + 1 + half]). Built by tinyc.ops.conv.im2col_weights. */
    const int32_t *weights;
} tinyc_conv2d_im2col_s8_params;

/* x NCHW int8, bias int32 (Co) or NULL, y NCHW int8. sum (x - input_zp) * w stays in int32 for
 * K < 66000; the bias is added with saturation. Scratch: 8 * k_padded bytes (four int16 columns,
 * interleaved as tinyc_conv.c describes), 4-byte aligned. DSP and portable paths give the same bits. */
void tinyc_conv2d_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y,
                     void *scratch);
/* k_padded <= TINYC_CONV_SMALLK: as tinyc_conv2d_s8 with the columns on the stack (8 * TINYC_CONV_SMALLK
 * bytes), no arena scratch: a small-K layer at the arena's peak (ResNet-8's 16-channel 3x3 convs) must
 * not raise it. Scratch: 0. */
#define TINYC_CONV_SMALLK 144
void tinyc_conv2d_smallk_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y);
/* A first layer (groups 1, Ci * KH <= 12, KW = 3, dilation_w 1): as tinyc_conv2d_s8, on the DSP cores
 * without Helium by a kernel of its own (tinyc_conv_first.h), elsewhere by tinyc_conv2d_smallk_s8. Scratch:
 * tinyc.ops.conv.first_scratch_bytes (at least 8 * k_padded), 4-byte aligned. */
void tinyc_conv2d_first_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y,
                           void *scratch);
/* Any groups, strides, dilations and pads, float32, bias float (Co) or NULL. Scratch: 0. */
void tinyc_conv2d_f32(const tinyc_conv2d_f32_params *p, const float *x, const float *w,
                      const float *bias, float *y);

#endif /* TINYC_CONV_H */
