/* tinyc_conv_mve.h: what the Helium (MVE) paths of the conv families share (tinyc_conv, tinyc_pointwise,
 * tinyc_depthwise): the int8 output tail of four int32 sums of one output channel at a time, bit for
 * bit tinyc_conv_finish_s8's. Empty unless TINYC_HAS_MVE. */
#ifndef TINYC_CONV_MVE_H
#define TINYC_CONV_MVE_H

#include "tinyc_conv_common.h"

#if TINYC_HAS_MVE
/* One output channel's tail constants, read once per channel. */
typedef struct {
    int32_t zsum;        /* input_zp * the channel's weight sum, subtracted from the raw sums */
    int32_t bias;        /* added with int32 saturation (tinyc_add_bias_sat) */
    int32_t multiplier;  /* in [0, 2^31) */
    int32_t left;        /* max(shift, 0) */
    int32_t right;       /* max(-shift, 0) */
    int32_t output_zp, act_min, act_max;
} tinyc_mve_outq;

static inline tinyc_mve_outq tinyc_mve_outq_of(const tinyc_conv2d_s8_params *p, const int32_t *bias, int32_t oc,
                                               int32_t zsum)
{
    tinyc_mve_outq q;
    const int32_t shift = p->requant.shift[oc];
    q.zsum = zsum;
    q.bias = bias ? bias[oc] : 0;
    q.multiplier = p->requant.multiplier[oc];
    q.left = shift > 0 ? shift : 0;
    q.right = shift > 0 ? 0 : -shift;
    q.output_zp = p->output_zp;
    q.act_min = p->clamp.min;
    q.act_max = p->clamp.max;
    return q;
}

/* tinyc_requantize_s8 of sat32(sums - zsum + bias) in four lanes. VQSHL saturates the left shift as
 * tinyc_requantize does; VQRDMULH is floor((a * m + 2^30) / 2^31) (m < 2^31: it never saturates);
 * VRSHL by -right rounds half up, so a negative value first takes 1 off, which turns that into
 * tinyc_requantize's ties away from zero (the value is > INT32_MIN: no saturation in the VQADD). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int32x4_t tinyc_mve_requantize(const tinyc_mve_outq *q, int32x4_t sums)
{
    int32x4_t a = vqaddq_n_s32(vsubq_n_s32(sums, q->zsum), q->bias);
    a = vqrdmulhq_n_s32(vqshlq_r_s32(a, q->left), q->multiplier);
    a = vqaddq_s32(a, vshrq_n_s32(vandq_s32(a, vdupq_n_s32(-q->right)), 31));
    a = vaddq_n_s32(vrshlq_n_s32(a, -q->right), q->output_zp);
    return vminq_s32(vmaxq_s32(a, vdupq_n_s32(q->act_min)), vdupq_n_s32(q->act_max));
}

/* Four output channels' tail constants as lanes (channels oc..oc + 3 of a block of 4). */
typedef struct {
    int32x4_t zsum, bias, multiplier, left, neg_right;
    int32_t output_zp, act_min, act_max;
} tinyc_mve_outq4;

static inline tinyc_mve_outq4 tinyc_mve_outq4_of(const int32_t *multiplier, const int32_t *shift,
                                                 const int32_t *weight_sums, const int32_t *bias, int32_t input_zp,
                                                 int32_t output_zp, tinyc_clamp clamp)
{
    tinyc_mve_outq4 q;
    const int32x4_t s = vldrwq_s32(shift), zero = vdupq_n_s32(0);
    q.zsum = vmulq_n_s32(vldrwq_s32(weight_sums), input_zp);
    q.bias = bias ? vldrwq_s32(bias) : zero;
    q.multiplier = vldrwq_s32(multiplier);
    q.left = vmaxq_s32(s, zero);
    q.neg_right = vminq_s32(s, zero);
    q.output_zp = output_zp;
    q.act_min = clamp.min;
    q.act_max = clamp.max;
    return q;
}

/* tinyc_mve_requantize with per-lane constants. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int32x4_t tinyc_mve_requantize4(const tinyc_mve_outq4 *q, int32x4_t sums)
{
    int32x4_t a = vqaddq_s32(vsubq_s32(sums, q->zsum), q->bias);
    a = vqrdmulhq_s32(vqshlq_s32(a, q->left), q->multiplier);
    a = vqaddq_s32(a, vshrq_n_s32(vandq_s32(a, q->neg_right), 31));
    a = vaddq_n_s32(vrshlq_s32(a, q->neg_right), q->output_zp);
    return vminq_s32(vmaxq_s32(a, vdupq_n_s32(q->act_min)), vdupq_n_s32(q->act_max));
}

/* The first n (<= 4) outputs of four raw sums into y[0..n). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void tinyc_mve_store4(const tinyc_mve_outq *q, int32x4_t sums, int8_t *y, int32_t n)
{
    if (n >= 4) {
        vstrbq_s32(y, tinyc_mve_requantize(q, sums));
    } else {
        vstrbq_p_s32(y, tinyc_mve_requantize(q, sums), vctp32q((uint32_t)n));
    }
}

/* y[i] = the output of raw sum sums[i], i < n: one channel's run of outputs, four per step. */
static inline void tinyc_mve_row(const tinyc_mve_outq *q, const int32_t *sums, int8_t *y, int32_t n)
{
    int32_t i;
    for (i = 0; i + 4 <= n; i += 4) {
        vstrbq_s32(y + i, tinyc_mve_requantize(q, vldrwq_s32(sums + i)));
    }
    if (i < n) {  /* the last 1-3: neither read nor written past n */
        const mve_pred16_t live = vctp32q((uint32_t)(n - i));
        vstrbq_p_s32(y + i, tinyc_mve_requantize(q, vldrwq_z_s32(sums + i, live)), live);
    }
}
#endif

#endif /* TINYC_CONV_MVE_H */
