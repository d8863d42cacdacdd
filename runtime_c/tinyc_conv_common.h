/* tinyc_conv_common.h: what the convolution families share (tinyc_conv, tinyc_depthwise,
 * tinyc_pointwise, tinyc_sparse_conv): the geometry and params structs, the per-channel output tail,
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

/* One int8 output channel's tail with the input zero point folded into the bias: y = clamp(requantize(
 * sat32(sum + bias), multiplier, shift) + output_zp) for a raw sum x * w whose zero-point term
 * (input_zp * weight sum) is already in bias. When shift is in [-23, -2] (the usual case) it is one
 * SMLAL: with right = -shift, s = -1 if a < 0 else 0, tinyc_requantize's result plus output_zp is
 * floor((a * multiplier + 2^30 + (2^(right-1) + s) * 2^31 + output_zp * 2^(31+right)) / 2^(31+right))
 * bit for bit (its ties away from zero are the s term; two nested floors are one floor; a < 0 with a
 * product rounded to 0 gives 0 either way). For right >= 2 the constant's low word is 2^30 + s * 2^31
 * mod 2^32 (the sign bit of a over 0x40000000) and its high word round_hi + s, so the result is the
 * high word of the int64 sum shifted right by right - 1; |a * multiplier| < 2^62 and the constant
 * < 2^61: no overflow. A zero multiplier gives 0 under any shift, so it takes the fast form with
 * shift -2. Other shifts, or a bias or zero-point term outside +-2^30, take tinyc_requantize_s8
 * (tests/host/test_depthwise_fast.py compares both). */
typedef struct {
    int32_t fast;        /* 1: the SMLAL form above; 0: tinyc_requantize_s8 */
    int32_t bias;        /* fast: bias - zsum; slow: bias */
    int32_t zsum;        /* slow only: input_zp * weight sum, subtracted first */
    int32_t multiplier, shift;
    int32_t right_minus_1;  /* fast: -shift - 1, in [1, 22] */
    int32_t round_hi;    /* fast: 2^(right-2) + output_zp * 2^(right-1) */
    int32_t output_zp;
    tinyc_clamp clamp;
} tinyc_conv_fastq;

/* The tail constants of output channel oc whose raw sums carry zsum = input_zp * (sum of its weights). */
static inline tinyc_conv_fastq tinyc_conv_fastq_of_s8(const tinyc_conv2d_s8_params *p, const int32_t *bias,
                                                      int32_t oc, int32_t zsum)
{
    tinyc_conv_fastq q;
    const int32_t b = bias ? bias[oc] : 0;
    /* multiplier 0 (a dead channel) requantizes everything to 0 under any shift: take the fast form */
    const int32_t shift = p->requant.multiplier[oc] == 0 ? -2 : p->requant.shift[oc];
    const uint32_t right = (uint32_t)-shift;
    /* bias and zsum within +-2^30: bias - zsum fits int32 */
    q.fast = (right - 2u <= 21u && (uint32_t)b + 0x40000000u < 0x80000000u
              && (uint32_t)zsum + 0x40000000u < 0x80000000u) || p->requant.multiplier[oc] == 0;
    q.bias = p->requant.multiplier[oc] == 0 ? 0 : (q.fast ? b - zsum : b);
    q.zsum = zsum;
    q.multiplier = p->requant.multiplier[oc];
    q.shift = shift;
    q.right_minus_1 = (int32_t)right - 1;
    q.round_hi = (int32_t)((1u << ((right - 2u) & 31u)) + (uint32_t)p->output_zp * (1u << ((right - 1u) & 31u)));
    q.output_zp = p->output_zp;
    q.clamp = p->clamp;
    return q;
}

/* sat32(a + b). */
static inline int32_t tinyc_conv_qadd(int32_t a, int32_t b)
{
#if TINYC_HAS_DSP
    return __qadd(a, b);
#else
    int64_t s = (int64_t)a + b;
    return s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : (int32_t)s);
#endif
}

/* The fast form's requantized value plus output_zp, before the clamp, of a = sat32(sum + bias). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int32_t tinyc_conv_fastq_value(int32_t a, int32_t multiplier, int32_t round_hi, int32_t rs)
{
    uint32_t lo = 0x40000000u | ((uint32_t)a & 0x80000000u);
    int32_t hi = round_hi + (a < 0 ? -1 : 0);
#if TINYC_HAS_DSP
    __asm__("smlal %0, %1, %2, %3" : "+r"(lo), "+r"(hi) : "r"(a), "r"(multiplier));
#else
    {
        const int64_t r = (int64_t)(((uint64_t)(uint32_t)hi << 32) | lo) + (int64_t)a * multiplier;
        hi = (int32_t)(r >> 32);
        (void)lo;
    }
#endif
    return hi >> rs;
}

/* The output of raw sum `sum` (see tinyc_conv_fastq). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int8_t tinyc_conv_fastq_s8(const tinyc_conv_fastq *q, int32_t sum)
{
    int32_t v;
    if (q->fast) {
        v = tinyc_conv_fastq_value(tinyc_conv_qadd(sum, q->bias), q->multiplier, q->round_hi, q->right_minus_1);
        return (int8_t)tinyc_clamp_i32(v, q->clamp.min, q->clamp.max);
    }
    v = tinyc_conv_qadd(sum - q->zsum, q->bias);
    return tinyc_requantize_s8(v, q->multiplier, q->shift, q->output_zp, q->clamp);
}

/* y[i * step] = the output of raw sum sums[i], i < n: one channel's row of outputs, its constants in
 * registers (a separate loop from the sums, which need the registers for weights). */
static inline void tinyc_conv_fastq_row_s8(const tinyc_conv_fastq *q, const int32_t *sums, int8_t *y,
                                           int32_t n, int32_t step)
{
    int32_t i;
    if (q->fast) {
        const int32_t bias = q->bias, multiplier = q->multiplier, rs = q->right_minus_1, round_hi = q->round_hi;
        const int32_t lo = q->clamp.min, hi = q->clamp.max;
#if TINYC_HAS_DSP
        if (hi == 127) {  /* no upper clamp beyond int8: SSAT, then the lower bound */
            for (i = 0; i < n; i++) {
                int32_t v = __ssat(tinyc_conv_fastq_value(__qadd(sums[i], bias), multiplier, round_hi, rs), 8);
                if (v < lo) v = lo;
                y[i * step] = (int8_t)v;
            }
            return;
        }
#endif
        for (i = 0; i < n; i++) {
            const int32_t v = tinyc_conv_fastq_value(tinyc_conv_qadd(sums[i], bias), multiplier, round_hi, rs);
            y[i * step] = (int8_t)tinyc_clamp_i32(v, lo, hi);
        }
        return;
    }
    for (i = 0; i < n; i++) {
        const int32_t v = tinyc_conv_qadd(sums[i] - q->zsum, q->bias);
        y[i * step] = tinyc_requantize_s8(v, q->multiplier, q->shift, q->output_zp, q->clamp);
    }
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
/* *u, *v = (*pp)[0], (*pp)[1], then *pp += 2: one LDRD with post-increment (word-aligned *pp). */
static inline void tinyc_conv_load_pair(const int32_t **pp, int32_t *u, int32_t *v)
{
    int32_t a, b;
    const int32_t *q = *pp;
    __asm__("ldrd %0, %1, [%2], #8" : "=r"(a), "=r"(b), "+r"(q) : "m"(*(const int32_t(*)[2])q));
    *pp = q;
    *u = a;
    *v = b;
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
