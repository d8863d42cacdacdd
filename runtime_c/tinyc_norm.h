/* tinyc_norm.h: normalizations. One kernel normalizes x over any set of axes (layer, group,
 * instance, RMS, mean-variance, Lp normalization), and LRN normalizes across channels.
 * float32 and int8 (normalize), no scratch. Sums accumulate in float, in x's row-major order, as
 * tinyc/ops/normalization.py. */
#ifndef TINYC_NORM_H
#define TINYC_NORM_H

#include "tinyc_loops.h"

/* How the statistics of one group of `count` elements give (m, inv); y = (x - m) * inv. */
#define TINYC_NORM_MOMENTS 0 /* m = mean, inv = 1 / (sqrtf(variance + epsilon) + epsilon_after) */
#define TINYC_NORM_RMS 1     /* m = 0, inv = 1 / sqrtf(mean of x * x + epsilon) */
#define TINYC_NORM_L1 2      /* m = 0, inv = 1 / sum of |x|, 0 when that is 0 */
#define TINYC_NORM_L2 3      /* m = 0, inv = 1 / sqrtf(sum of x * x), 0 when that is 0 */

/* For each group o over the kept loops: statistics over the reduced loops, then
 * y = (x - m) * inv * scale + bias at every element of the group, with scale and bias
 * (NULL: 1 and 0) indexed through the loops' w_strides. y has x's layout and may alias x
 * (a group's elements are written after they are read for the last time). mean and inv_std
 * (NULL when unused) get m and inv of group o at [o]. */
typedef struct {
    int32_t kind; /* TINYC_NORM_* */
    int32_t count; /* elements per group (product of the reduced dims), >= 1 */
    float epsilon, epsilon_after;
    tinyc_loops kept;
    tinyc_loops reduced;
} tinyc_normalize_f32_params;

void tinyc_normalize_f32(const tinyc_normalize_f32_params *p, const float *x, const float *scale,
                         const float *bias, float *y, float *mean, float *inv_std);

/* int8 normalize (docs/normalization_int8.md): per group of count elements, d = x - input_zp,
 * S1 = sum d (int32), S2 = sum d^2 (int64); by kind (MOMENTS, RMS, L2) u = count d - S1 | count d | d
 * and W = count S2 - S1^2 | count S2 | S2; D = W 4^var_fraction_bits + eps_mantissa 2^eps_shift;
 * z = u 2^var_fraction_bits / sqrt(D) in Q16 (tinyc_inv_sqrt; 0 when W is 0);
 * y = clamp(round((z scale[w] + bias[w]) / 2^out_shift) + output_zp), scale and bias int32 indexed
 * through the loops' w_strides. count <= 2^22. y may alias x (as the float kernel). */
#define TINYC_NORM_Z_FRACTION_BITS 16

typedef struct {
    int32_t kind; /* TINYC_NORM_MOMENTS, TINYC_NORM_RMS or TINYC_NORM_L2 */
    int32_t count;
    int32_t input_zp, output_zp;
    int32_t var_fraction_bits; /* f: W is scaled by 4^f so epsilon keeps fraction bits */
    int32_t eps_mantissa, eps_shift; /* epsilon count^2 / input_scale^2 4^f */
    int32_t out_shift;
    tinyc_loops kept;
    tinyc_loops reduced;
} tinyc_normalize_s8_params;

void tinyc_normalize_s8(const tinyc_normalize_s8_params *p, const int8_t *x, const int32_t *scale,
                        const int32_t *bias, int8_t *y);

/* Local response normalization across channels of x viewed as [n, c, inner]:
 * y = x / powf(bias + alpha_over_size * sum of x^2 over channels [c - before, c + after], beta),
 * the window cut at the channel ends. y must not alias x. */
typedef struct {
    int32_t n, c, inner;
    int32_t before, after; /* floor((size - 1) / 2), ceil((size - 1) / 2) */
    float alpha_over_size, beta, bias;
} tinyc_lrn_f32_params;

void tinyc_lrn_f32(const tinyc_lrn_f32_params *p, const float *x, float *y);

/* int8 local response normalization: S = int32 sum of (x - input_zp)^2 over the window, then
 * g = (1 + k S)^-beta in Q22 from table (S below 2^6 exact; above, 2^5 points an octave at
 * (2^5 + j) 2^e, linear interpolation rounding half away from zero), and
 * y = requantize((x - input_zp) g) + output_zp, saturated. y must not alias x. */
#define TINYC_LRN_TABLE_BITS 6
typedef struct {
    int32_t n, c, inner;
    int32_t before, after;
    int32_t input_zp, output_zp, multiplier, shift;
    const int32_t *table;
} tinyc_lrn_s8_params;

void tinyc_lrn_s8(const tinyc_lrn_s8_params *p, const int8_t *x, int8_t *y);

#endif /* TINYC_NORM_H */
