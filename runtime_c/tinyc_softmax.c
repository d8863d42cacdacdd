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
    const uint32_t *table = p->exp_table;
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
                const uint32_t q = ((table[max - xr[k * step]] << 8) + half) / sum;
                yr[k * step] = (int8_t)((int32_t)(q > 255 ? 255 : q) - 128);
            }
        }
    }
}
