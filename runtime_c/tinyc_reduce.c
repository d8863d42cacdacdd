/* tinyc_reduce.c: see tinyc_reduce.h. Portable C99. */
#include <math.h>

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

void tinyc_reduce_mean_s8(const tinyc_reduce_mean_s8_params *p, const int8_t *x, int8_t *y)
{
    int32_t idx[TINYC_LOOPS_MAX_RANK] = {0};
    int32_t off = 0, unused = 0, o, outputs = 1, k;
    for (k = 0; k < p->kept.rank; ++k) {
        outputs *= p->kept.dims[k];
    }
    for (o = 0; o < outputs; ++o) {
        int32_t ridx[TINYC_LOOPS_MAX_RANK] = {0};
        int32_t roff = 0, r, sum = 0;
        for (r = 0; r < p->count; ++r) {
            sum += x[off + roff];
            tinyc_loops_step(&p->reduced, ridx, &roff, &unused);
        }
        sum = tinyc_requantize(sum - p->input_zp * p->count, p->multiplier, p->shift) + p->output_zp;
        y[o] = (int8_t)tinyc_clamp_i32(sum, -128, 127);
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
