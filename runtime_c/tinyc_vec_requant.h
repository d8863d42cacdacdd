/* tinyc_vec_requant.h: tinyc_requantize (tinyc_common.h) on 4 Helium lanes, bit for bit, for the MVE
 * paths of dense, elementwise and the sparse kernels. Empty without TINYC_HAS_MVE. */
#ifndef TINYC_VEC_REQUANT_H
#define TINYC_VEC_REQUANT_H

#include "tinyc_common.h"

#if TINYC_HAS_MVE
/* A saturating left shift (VQSHL by max(shift, 0)), the doubling high multiply (VQRDMULH:
 * floor((a * multiplier + 2^30) / 2^31); multiplier >= 0, so it cannot saturate), then the right shift
 * rounding half away from zero: VRSHL rounds half up, so a negative value is first moved down by one
 * when it shifts (gemmlowp's fixup; VQADD keeps INT32_MIN, an exact multiple). */
static inline int32x4_t tinyc_requantize_x4(int32x4_t acc, int32x4_t multiplier, int32x4_t shift)
{
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t right_neg = vminq_s32(shift, zero);
    const int32x4_t hi = vqrdmulhq_s32(vqshlq_s32(acc, vmaxq_s32(shift, zero)), multiplier);
    const int32x4_t fixup = vshrq_n_s32(vandq_s32(hi, right_neg), 31);
    return vrshlq_s32(vqaddq_s32(hi, fixup), right_neg);
}

/* The same for shift <= 0, given right_neg = shift (no left shift). */
static inline int32x4_t tinyc_requantize_right_x4(int32x4_t acc, int32x4_t multiplier, int32x4_t right_neg)
{
    const int32x4_t hi = vqrdmulhq_s32(acc, multiplier);
    const int32x4_t fixup = vshrq_n_s32(vandq_s32(hi, right_neg), 31);
    return vrshlq_s32(vqaddq_s32(hi, fixup), right_neg);
}
#endif

#endif /* TINYC_VEC_REQUANT_H */
