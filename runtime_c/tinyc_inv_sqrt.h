/* tinyc_inv_sqrt.h: an integer inverse square root for the int8 normalizations and ReduceL2.
 * Mirrors quant.inv_sqrt (tinyc/quant.py) bit for bit. Arithmetic (flooring) shifts of
 * non-negative values only. */
#ifndef TINYC_INV_SQRT_H
#define TINYC_INV_SQRT_H

#include "tinyc_common.h"

#define TINYC_INV_SQRT_NEWTON_STEPS 4

/* 1/sqrt(d) ~= *r * 2^-(44 + *k) for d in [1, 2^62), *r in [2^29, 2^30], relative error below 3e-9.
 * d = m * 4^k with m in [2^28, 2^30), then Newton steps r <- r (3 - M r^2) / 2 (M = m / 2^30, r in
 * Q29) from the chord of 1/sqrt on [1/4, 1]. Also gives m: sqrt(d) ~= m * r * 2^(k - 44). */
static inline void tinyc_inv_sqrt(int64_t d, int64_t *r_out, int32_t *k_out, int64_t *m_out)
{
    int32_t bits = 0, k, step;
    int64_t m, r;
    while (bits < 63 && (d >> bits) != 0) {
        ++bits;
    }
    k = (bits - 29 + 64) / 2 - 32; /* floor((bits - 29) / 2) */
    m = k >= 0 ? d >> (2 * k) : d << (-2 * k);
    r = (7 * ((int64_t)1 << 29) - 2 * m) / 3;
    for (step = 0; step < TINYC_INV_SQRT_NEWTON_STEPS; ++step) {
        const int64_t t = (r * r) >> 29;
        const int64_t mt = (m * t) >> 30;
        r = (r * (3 * ((int64_t)1 << 29) - mt)) >> 30;
    }
    *r_out = r;
    *k_out = k;
    *m_out = m;
}

/* x / 2^e rounded half away from zero (gemmlowp's RoundingDivideByPOT) on int64, 0 <= e < 63. */
static inline int64_t tinyc_rounding_shift_i64(int64_t x, int32_t e)
{
    const int64_t mask = ((int64_t)1 << e) - 1;
    return (x >> e) + ((x & mask) > (mask >> 1) + (x < 0));
}

#endif /* TINYC_INV_SQRT_H */
