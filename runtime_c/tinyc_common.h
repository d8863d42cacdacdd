/* tinyc_common.h: types and the one requantization every int8 kernel path calls.
 * Mirrors tinyc/quant.py bit for bit (TensorFlow Lite's int8 scheme). */
#ifndef TINYC_COMMON_H
#define TINYC_COMMON_H

#include <stdint.h>
#include <stddef.h>

#include "tinyc_arch.h"

#ifdef TINYC_DEBUG
#include <assert.h>
#define TINYC_ASSERT(cond) assert(cond)
#else
#define TINYC_ASSERT(cond) ((void)0)
#endif

/* Shape of an activation in NCHW order (a 1-D signal has h = 1). */
typedef struct {
    int32_t n, c, h, w;
} tinyc_shape4;

/* Output clamp after requantization: int8 bounds (or float bounds in _f32 kernels). */
typedef struct {
    int32_t min, max;
} tinyc_clamp;

typedef struct {
    float min, max;
} tinyc_clamp_f32;

/* Per-channel requantization: real multiplier = multiplier[c] * 2^(shift[c] - 31). */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
} tinyc_requant_pc;

static inline int32_t tinyc_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t tinyc_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t tinyc_clamp_i32(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* acc + bias[channel] saturated to int32 (no bias: acc). A channel with near-zero weights can
 * have its quantized bias clipped to the int32 limits; the conv and dense references mirror this. */
static inline int32_t tinyc_add_bias_sat(int32_t acc, const int32_t *bias, int32_t channel)
{
    int64_t sum = (int64_t)acc + (bias ? bias[channel] : 0);
    return sum > INT32_MAX ? INT32_MAX : (sum < INT32_MIN ? INT32_MIN : (int32_t)sum);
}

/* TFLite's MultiplyByQuantizedMultiplier: round(acc * multiplier * 2^(shift - 31)).
 * The left shift saturates to int32 (TFLite's would overflow). multiplier is in [0, 2^31)
 * (quant.quantize_multiplier), so gemmlowp's one overflow case (both operands INT32_MIN) cannot
 * occur, and its doubling high multiply (add a sign-dependent nudge, divide truncating) equals
 * floor((a * multiplier + 2^30) / 2^31): one SMULL and a carry on Cortex-M. RoundingDivideByPOT
 * then rounds half away from zero. Equal to quant.requantize bit for bit (tests/host). */
static inline int32_t tinyc_requantize(int32_t acc, int32_t multiplier, int32_t shift)
{
    int32_t a = acc, hi, mask;
    int32_t right = shift > 0 ? 0 : -shift;
    TINYC_ASSERT(multiplier >= 0);
    if (shift > 0) {
        int32_t limit = INT32_MAX >> shift;
        a = acc > limit ? INT32_MAX : (acc < -limit - 1 ? INT32_MIN : (int32_t)((uint32_t)acc << shift));
    }
    hi = (int32_t)(((int64_t)a * multiplier + ((int64_t)1 << 30)) >> 31);
    mask = (int32_t)((1u << right) - 1u);
    return (hi >> right) + ((hi & mask) > (mask >> 1) + (hi < 0));
}

/* Requantize, add the output zero point and clamp to the fused activation range. */
static inline int8_t tinyc_requantize_s8(int32_t acc, int32_t multiplier, int32_t shift,
                                         int32_t output_zp, tinyc_clamp clamp)
{
    int32_t v = tinyc_requantize(acc, multiplier, shift) + output_zp;
    return (int8_t)tinyc_clamp_i32(v, clamp.min, clamp.max);
}

static inline float tinyc_clamp_f32_value(float x, tinyc_clamp_f32 clamp)
{
    return x < clamp.min ? clamp.min : (x > clamp.max ? clamp.max : x);
}

#endif /* TINYC_COMMON_H */
