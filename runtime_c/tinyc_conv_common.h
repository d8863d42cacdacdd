/* tinyc_conv_common.h: what the convolution families share (tinyc_conv, tinyc_depthwise,
 * tinyc_pointwise, tinyc_sparse): the geometry and params structs, the per-channel output tail,
 * the valid-tap range, and the DSP lane helpers. Layout: activations NCHW (a 1-D signal is
 * N, C, 1, L), weights (Co, Ci/groups, KH, KW), bias (Co) or NULL. */
#ifndef TINYC_CONV_COMMON_H
#define TINYC_CONV_COMMON_H

#include <string.h>

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

/* One int8 output channel's constants, read once per channel instead of once per output. */
typedef struct {
    int32_t bias, multiplier, shift;
} tinyc_conv_channel;

static inline tinyc_conv_channel tinyc_conv_channel_of_s8(const tinyc_conv2d_s8_params *p, const int32_t *bias, int32_t oc)
{
    tinyc_conv_channel ch;
    ch.bias = bias ? bias[oc] : 0;
    ch.multiplier = p->requant.multiplier[oc];
    ch.shift = p->requant.shift[oc];
    return ch;
}

/* bias (saturating add), requantization, zero point and clamp: ref_int8's tail, inlined in the hot
 * loops (a call per output costs more than a 9-tap sum). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int8_t tinyc_conv_finish_s8(const tinyc_conv2d_s8_params *p, const tinyc_conv_channel *ch, int32_t acc)
{
    acc = tinyc_add_bias_sat(acc, &ch->bias, 0);
    return tinyc_requantize_s8(acc, ch->multiplier, ch->shift, p->output_zp, p->clamp);
}

/* Taps k in [*lo, *hi) keep origin + k * dilation inside [0, size); empty when *lo >= *hi. */
static inline void tinyc_conv_taps(int32_t origin, int32_t size, int32_t kernel, int32_t dilation,
                            int32_t *lo, int32_t *hi)
{
    int32_t first = origin < 0 ? (dilation - 1 - origin) / dilation : 0;
    int32_t end = size - origin <= 0 ? 0 : (size - origin + dilation - 1) / dilation;
    *lo = first;
    *hi = end < kernel ? end : kernel;
}

#if TINYC_HAS_DSP
/* Four int8 lanes from any address (NCHW planes have odd sizes); one unaligned LDR on the M4. */
static inline int32_t tinyc_conv_load4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* __sxtb16 of the word rotated by 8: lanes 1, 3 as int16 (gcc does not fold a C rotate into it). */
static inline int32_t tinyc_conv_sxtb16_odd(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/* (lo16 of a, lo16 of b) and (hi16 of a, hi16 of b): PKHBT / PKHTB (gcc does not form them from C). */
static inline int32_t tinyc_conv_pack_lo(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
static inline int32_t tinyc_conv_pack_hi(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(b), "r"(a));
    return r;
}
#endif

#endif /* TINYC_CONV_COMMON_H */
