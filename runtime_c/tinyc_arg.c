/* tinyc_arg.c: see tinyc_arg.h. Portable C99. */
#include "tinyc_arg.h"

/* a before b in the order wanted: strictly larger (smaller), a NaN larger than any number */
static int32_t ahead_f32(float a, float b, int32_t smallest)
{
    if (a != a) {
        return b == b;
    }
    if (b != b) {
        return 0;
    }
    return smallest ? a < b : a > b;
}

static int32_t ahead_s8(int8_t a, int8_t b, int32_t smallest)
{
    return smallest ? a < b : a > b;
}

/* One body per type: TYPE the element type, AHEAD its order. */
#define TINYC_ARGMAX_BODY(AHEAD)                                                                    \
    int32_t o, i, j;                                                                                \
    for (o = 0; o < p->outer; ++o) {                                                                \
        for (i = 0; i < p->inner; ++i) {                                                            \
            const int32_t base = o * p->axis_size * p->inner + i;                                   \
            int32_t best = 0;                                                                       \
            for (j = 1; j < p->axis_size; ++j) {                                                    \
                const int32_t take = p->last ? !AHEAD(x[base + best * p->inner], x[base + j * p->inner], \
                                                      p->smallest)                                   \
                                             : AHEAD(x[base + j * p->inner], x[base + best * p->inner], \
                                                     p->smallest);                                   \
                if (take) {                                                                         \
                    best = j;                                                                       \
                }                                                                                   \
            }                                                                                       \
            y[o * p->inner + i] = (int64_t)best;                                                    \
        }                                                                                           \
    }

void tinyc_argmax_f32(const tinyc_argmax_params *p, const float *x, int64_t *y)
{
    TINYC_ARGMAX_BODY(ahead_f32)
}

void tinyc_argmax_s8(const tinyc_argmax_params *p, const int8_t *x, int64_t *y)
{
    TINYC_ARGMAX_BODY(ahead_s8)
}

#define TINYC_TOPK_BODY(AHEAD)                                                                      \
    int32_t o, i, j;                                                                                \
    for (o = 0; o < p->outer; ++o) {                                                                \
        for (i = 0; i < p->inner; ++i) {                                                            \
            const int32_t in = o * p->axis_size * p->inner + i, out = o * p->k * p->inner + i;      \
            int32_t count = 0;                                                                      \
            for (j = 0; j < p->axis_size && p->k > 0; ++j) {                                        \
                const int32_t step = p->inner;                                                      \
                int32_t pos;                                                                        \
                if (count == p->k && !AHEAD(x[in + j * step], values[out + (count - 1) * step], !p->largest)) { \
                    continue;                                                                       \
                }                                                                                   \
                pos = count < p->k ? count++ : count - 1;                                           \
                while (pos > 0 && AHEAD(x[in + j * step], values[out + (pos - 1) * step], !p->largest)) { \
                    values[out + pos * step] = values[out + (pos - 1) * step];                      \
                    indices[out + pos * step] = indices[out + (pos - 1) * step];                    \
                    --pos;                                                                          \
                }                                                                                   \
                values[out + pos * step] = x[in + j * step];                                        \
                indices[out + pos * step] = (int64_t)j;                                             \
            }                                                                                       \
        }                                                                                           \
    }

void tinyc_topk_f32(const tinyc_topk_params *p, const float *x, float *values, int64_t *indices)
{
    TINYC_TOPK_BODY(ahead_f32)
}

void tinyc_topk_s8(const tinyc_topk_params *p, const int8_t *x, int8_t *values, int64_t *indices)
{
    TINYC_TOPK_BODY(ahead_s8)
}
