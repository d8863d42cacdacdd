/* tinyc_reduce.c: see tinyc_reduce.h. Portable C99. */
#include <math.h>

#include "tinyc_inv_sqrt.h"
#include "tinyc_reduce.h"

static float reduce_one(const tinyc_reduce_f32_params *p, const float *x)
{
    int32_t idx[TINYC_LOOPS_MAX_RANK] = {0};
    int32_t off = 0, unused = 0, r;
    float acc = p->kind == TINYC_REDUCE_MAX || p->kind == TINYC_REDUCE_MIN ? x[0] : 0.0f;
    for (r = 0; r < p->count; ++r) {
        const float v = x[off];
        switch (p->kind) {
        case TINYC_REDUCE_MAX:
            acc = (v > acc || v != v) && acc == acc ? v : acc; /* NaN sticks */
            break;
        case TINYC_REDUCE_MIN:
            acc = (v < acc || v != v) && acc == acc ? v : acc;
            break;
        case TINYC_REDUCE_L2:
        case TINYC_REDUCE_SUM_SQUARE:
            acc += v * v;
            break;
        default:
            acc += v;
            break;
        }
        tinyc_loops_step(&p->reduced, idx, &off, &unused);
    }
    if (p->kind == TINYC_REDUCE_MEAN) {
        acc /= (float)p->count;
    } else if (p->kind == TINYC_REDUCE_L2) {
        acc = sqrtf(acc);
    }
    return acc;
}

void tinyc_reduce_f32(const tinyc_reduce_f32_params *p, const float *x, float *y)
{
    int32_t idx[TINYC_LOOPS_MAX_RANK] = {0};
    int32_t off = 0, unused = 0, o, outputs = 1, k;
    for (k = 0; k < p->kept.rank; ++k) {
        outputs *= p->kept.dims[k];
    }
    for (o = 0; o < outputs; ++o) {
        y[o] = reduce_one(p, x + off);
        tinyc_loops_step(&p->kept, idx, &off, &unused);
    }
}

/* acc of one output (see tinyc_reduce.h), before the requantization. */
static int32_t reduce_one_s8(const tinyc_reduce_s8_params *p, const int8_t *x)
{
    int32_t idx[TINYC_LOOPS_MAX_RANK] = {0};
    int32_t off = 0, unused = 0, r, acc = x[0] - p->input_zp, k;
    int64_t squares = 0, root, m;
    if (p->kind != TINYC_REDUCE_MAX && p->kind != TINYC_REDUCE_MIN) {
        acc = 0;
    }
    for (r = 0; r < p->count; ++r) {
        const int32_t d = x[off] - p->input_zp;
        switch (p->kind) {
        case TINYC_REDUCE_MAX:
            acc = tinyc_max_i32(acc, d);
            break;
        case TINYC_REDUCE_MIN:
            acc = tinyc_min_i32(acc, d);
            break;
        case TINYC_REDUCE_SUM_SQUARE:
            acc += d * d;
            break;
        case TINYC_REDUCE_L2:
            squares += d * d;
            break;
        default:
            acc += d;
            break;
        }
        tinyc_loops_step(&p->reduced, idx, &off, &unused);
    }
    if (p->kind == TINYC_REDUCE_L2 && squares > 0) { /* sqrt(squares) = m r 2^(k - 44), in Q8 */
        tinyc_inv_sqrt(squares, &root, &k, &m);
        acc = (int32_t)tinyc_rounding_shift_i64(m * root, 44 - TINYC_REDUCE_L2_FRACTION_BITS - k);
    }
    return acc;
}

void tinyc_reduce_s8(const tinyc_reduce_s8_params *p, const int8_t *x, int8_t *y)
{
    int32_t idx[TINYC_LOOPS_MAX_RANK] = {0};
    int32_t off = 0, unused = 0, o, outputs = 1, k;
    for (k = 0; k < p->kept.rank; ++k) {
        outputs *= p->kept.dims[k];
    }
    for (o = 0; o < outputs; ++o) {
        const int32_t acc = reduce_one_s8(p, x + off) * ((int32_t)1 << p->pre_shift);
        const int32_t v = tinyc_requantize(acc, p->multiplier, p->shift) + p->output_zp;
        y[o] = (int8_t)tinyc_clamp_i32(v, -128, 127);
        tinyc_loops_step(&p->kept, idx, &off, &unused);
    }
}

void tinyc_cumsum_f32(const tinyc_cumsum_f32_params *p, const float *x, float *y)
{
    const int32_t n = p->axis_size, step = p->inner;
    int32_t o, i, k;
    for (o = 0; o < p->outer; ++o) {
        for (i = 0; i < p->inner; ++i) {
            const float *xr = x + o * n * step + i;
            float *yr = y + o * n * step + i;
            float acc = 0.0f;
            for (k = 0; k < n; ++k) {
                const int32_t at = (p->reverse ? n - 1 - k : k) * step;
                const float v = xr[at]; /* read before the write: y may alias x */
                if (p->exclusive) {
                    yr[at] = acc;
                    acc += v;
                } else {
                    acc += v;
                    yr[at] = acc;
                }
            }
        }
    }
}

void tinyc_cumsum_s8(const tinyc_cumsum_s8_params *p, const int8_t *x, int8_t *y)
{
    const int32_t n = p->axis_size, step = p->inner;
    int32_t o, i, k;
    for (o = 0; o < p->outer; ++o) {
        for (i = 0; i < p->inner; ++i) {
            const int8_t *xr = x + o * n * step + i;
            int8_t *yr = y + o * n * step + i;
            int32_t acc = 0;
            for (k = 0; k < n; ++k) {
                const int32_t at = (p->reverse ? n - 1 - k : k) * step;
                const int32_t d = xr[at] - p->input_zp; /* read before the write: y may alias x */
                int32_t v;
                if (!p->exclusive) {
                    acc += d;
                }
                v = tinyc_requantize(acc, p->multiplier, p->shift) + p->output_zp;
                yr[at] = (int8_t)tinyc_clamp_i32(v, -128, 127);
                if (p->exclusive) {
                    acc += d;
                }
            }
        }
    }
}
