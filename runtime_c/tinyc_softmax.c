/* tinyc_softmax.c: see tinyc_softmax.h. Portable C99; the _s8 path has no float. */
#include <math.h>

#include "tinyc_softmax.h"

void tinyc_softmax_f32(const tinyc_softmax_f32_params *p, const float *x, float *y)
{
    const int32_t n = p->axis_size, step = p->inner;
    int32_t o, i, k;
    for (o = 0; o < p->outer; ++o) {
        for (i = 0; i < p->inner; ++i) {
            const float *xr = x + o * n * step + i;
            float *yr = y + o * n * step + i;
            float max = xr[0], sum = 0.0f;
            for (k = 1; k < n; ++k) {
                max = xr[k * step] > max ? xr[k * step] : max;
            }
            for (k = 0; k < n; ++k) { /* subtracting the max keeps expf from overflowing */
                const float e = expf(xr[k * step] - max);
                yr[k * step] = e;
                sum += e;
            }
            for (k = 0; k < n; ++k) {
                yr[k * step] /= sum;
            }
        }
    }
}

void tinyc_log_softmax_f32(const tinyc_softmax_f32_params *p, const float *x, float *y)
{
    const int32_t n = p->axis_size, step = p->inner;
    int32_t o, i, k;
    for (o = 0; o < p->outer; ++o) {
        for (i = 0; i < p->inner; ++i) {
            const float *xr = x + o * n * step + i;
            float *yr = y + o * n * step + i;
            float max = xr[0], sum = 0.0f, log_sum;
            for (k = 1; k < n; ++k) {
                max = xr[k * step] > max ? xr[k * step] : max;
            }
            for (k = 0; k < n; ++k) {
                sum += expf(xr[k * step] - max);
            }
            log_sum = logf(sum);
            for (k = 0; k < n; ++k) { /* (x - max) first: exact for large x, where max + log_sum is not */
                yr[k * step] = (xr[k * step] - max) - log_sum;
            }
        }
    }
}

void tinyc_softmax_s8(const tinyc_softmax_s8_params *p, const int8_t *x, int8_t *y)
{
    const int32_t n = p->axis_size, step = p->inner;
    const uint32_t *table = p->exp_table, levels = p->levels;
    const int32_t out_zp = p->out_zp;
    int32_t o, i, k;
    for (o = 0; o < p->outer; ++o) {
        for (i = 0; i < p->inner; ++i) {
            const int8_t *xr = x + o * n * step + i;
            int8_t *yr = y + o * n * step + i;
            int32_t max = xr[0];
            uint32_t sum = 0, half;
            for (k = 1; k < n; ++k) {
                max = xr[k * step] > max ? xr[k * step] : max;
            }
            for (k = 0; k < n; ++k) {
                sum += table[max - xr[k * step]];
            }
            half = sum / 2;
            for (k = 0; k < n; ++k) { /* all non-negative: division rounds half up, as the reference */
                /* q <= levels and out_zp >= -128: only the top can saturate */
                const int32_t v = (int32_t)((table[max - xr[k * step]] * levels + half) / sum) + out_zp;
                yr[k * step] = (int8_t)(v > 127 ? 127 : v);
            }
        }
    }
}

/* gemmlowp's SaturatingRoundingDoublingHighMul: (a * b + nudge) / 2^31, truncating. */
static int32_t srdhm(int32_t a, int32_t b)
{
    int64_t ab = (int64_t)a * b;
    int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : 1 - ((int64_t)1 << 30);
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

static int32_t rdbpot(int32_t x, int32_t e)
{
    int32_t mask = (int32_t)((1u << e) - 1u);
    return (x >> e) + ((x & mask) > (mask >> 1) + (x < 0));
}

/* gemmlowp's SaturatingRoundingMultiplyByPOT for e >= 0: x * 2^e saturated to int32. */
static int32_t sat_pot(int32_t x, int32_t e)
{
    int32_t limit;
    if (e == 0) {
        return x;
    }
    limit = (int32_t)((1u << (31 - e)) - 1u);
    return x > limit ? INT32_MAX : (x < -limit ? INT32_MIN : (int32_t)((uint32_t)x << e));
}

static int32_t sat32(int64_t x)
{
    return x > INT32_MAX ? INT32_MAX : (x < INT32_MIN ? INT32_MIN : (int32_t)x);
}

static int32_t clz32(uint32_t u)
{
    int32_t n = 0;
    if (u == 0) {
        return 32;
    }
    while (!(u & 0x80000000u)) {
        u <<= 1;
        ++n;
    }
    return n;
}

static int32_t rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* gemmlowp's one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a) in Q0.31. */
static int32_t one_over_one_plus_x(int32_t a)
{
    const int32_t half = rounding_half_sum(a, INT32_MAX);
    int32_t y = 1515870810 + srdhm(half, -1010580540), k; /* 48/17 - 32/17 * half, Q2.29 */
    for (k = 0; k < 3; ++k) {
        y += sat_pot(srdhm(y, (1 << 29) - srdhm(half, y)), 2);
    }
    return sat_pot(y, 1); /* ExactMulByPot<-1> keeps the raw value; Rescale<0> doubles it */
}

/* TFLite's GetReciprocal of a positive Q12.19 sum: 1 / (1 + x) in Q0.31, and the bits over unit. */
static int32_t reciprocal(int32_t total, int32_t *bits_over_unit)
{
    int32_t headroom = 0;
    uint32_t u = (uint32_t)total;
    while (!(u & 0x80000000u)) {
        u <<= 1;
        ++headroom;
    }
    *bits_over_unit = 12 - headroom;
    return one_over_one_plus_x((int32_t)(u - 0x80000000u));
}

void tinyc_softmax_tflm_s8(const tinyc_softmax_tflm_s8_params *p, const int8_t *x, int8_t *y)
{
    const int32_t n = p->axis_size, step = p->inner;
    const int32_t *table = p->exp_table;
    int32_t o, i, k;
    for (o = 0; o < p->outer; ++o) {
        for (i = 0; i < p->inner; ++i) {
            const int8_t *xr = x + o * n * step + i;
            int8_t *yr = y + o * n * step + i;
            int32_t max = xr[0], sum = 0, scale, bits;
            for (k = 1; k < n; ++k) {
                max = xr[k * step] > max ? xr[k * step] : max;
            }
            for (k = 0; k < n; ++k) {
                sum += rdbpot(table[max - xr[k * step]], 12);
            }
            scale = reciprocal(sum, &bits);
            for (k = 0; k < n; ++k) {
                int32_t v = rdbpot(srdhm(scale, table[max - xr[k * step]]), bits + 23) - 128;
                yr[k * step] = (int8_t)(v > 127 ? 127 : (v < -128 ? -128 : v));
            }
        }
    }
}

/* TFLite's log_x_for_x_greater_than_or_equal_to_1<5> of a positive Q12.19 total: log in Q5.26.
 * Accumulates in Q6.25 (one bit of headroom), as TFLite. */
static int32_t log_q5(int32_t total)
{
    const int32_t sqrt_half = 1518500250, sqrt_sqrt_half = 1805811301, log_2 = 1488522236;
    const int32_t alpha_n = 117049297, alpha_d = 127690142, alpha_i = 1057819769, alpha_f = 638450708;
    const int32_t quarter = 1 << 23; /* 1/4 in Q6.25 */
    const int32_t za_headroom_plus_1 = clz32((uint32_t)total);
    const int32_t r_a = sat_pot(srdhm(sat_pot(total, za_headroom_plus_1 - 1), sqrt_half), 1);
    const int32_t za_adj = sat32((int64_t)sat_pot(12 - za_headroom_plus_1, 25) + quarter);
    const int32_t zb_headroom = clz32((uint32_t)srdhm(total, sqrt_half)) - 1;
    const int32_t r_b = sat_pot(total, zb_headroom);
    const int32_t zb_adj = sat32((int64_t)sat_pot(12 - zb_headroom, 25) - quarter);
    const int32_t r = tinyc_min_i32(r_a, r_b), z_adj = tinyc_max_i32(za_adj, zb_adj);
    const int32_t p = rounding_half_sum(r, sqrt_sqrt_half), q = 2 * (r - sqrt_sqrt_half);
    const int32_t q_sq = srdhm(q, q);
    const int32_t num = srdhm(q, r) + srdhm(srdhm(q, q_sq), alpha_n);
    const int32_t denom_minus_one = srdhm(p, alpha_i + q + srdhm(alpha_d, q_sq)) + srdhm(alpha_f, q);
    return sat_pot(srdhm(z_adj, log_2) + srdhm(rdbpot(num, 6), one_over_one_plus_x(denom_minus_one)), 1);
}

void tinyc_log_softmax_s8(const tinyc_log_softmax_s8_params *p, const int8_t *x, int8_t *y)
{
    const int32_t n = p->axis_size, step = p->inner;
    const int32_t *table = p->exp_table;
    int32_t o, i, k;
    for (o = 0; o < p->outer; ++o) {
        for (i = 0; i < p->inner; ++i) {
            const int8_t *xr = x + o * n * step + i;
            int8_t *yr = y + o * n * step + i;
            int32_t max = xr[0], sum = 0, log_sum, floor;
            for (k = 1; k < n; ++k) {
                max = xr[k * step] > max ? xr[k * step] : max;
            }
            for (k = 0; k < n; ++k) {
                sum += table[max - xr[k * step]];
            }
            log_sum = log_q5(sum);
            /* differences at or below this would leave int32 once the log is subtracted: -128 */
            floor = tinyc_requantize(log_sum + INT32_MIN, p->reverse_multiplier, p->reverse_shift);
            floor = tinyc_max_i32(p->diff_min - 1, floor);
            for (k = 0; k < n; ++k) {
                const int32_t d = xr[k * step] - max;
                int32_t v = -128;
                if (d > floor) {
                    const int32_t q5 = tinyc_requantize(d, p->input_multiplier, p->input_shift);
                    v = tinyc_clamp_i32(rdbpot(sat32((int64_t)q5 - log_sum), 22) + 127, -128, 127);
                }
                yr[k * step] = (int8_t)v;
            }
        }
    }
}
