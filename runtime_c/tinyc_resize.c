/* tinyc_resize.c: see tinyc_resize.h. Portable C99; the _s8 path has no float. */
#include "tinyc_resize.h"

/* The next output index (odometer over dims, last fastest). */
static void resize_next(int32_t rank, const int32_t *dims, int32_t *index)
{
    int32_t k;
    for (k = rank - 1; k >= 0; --k) {
        if (++index[k] < dims[k]) {
            return;
        }
        index[k] = 0;
    }
}

void tinyc_resize_f32(const tinyc_resize_f32_params *p, const float *x, float *y)
{
    int32_t index[TINYC_RESIZE_MAX_RANK] = {0};
    int32_t row[TINYC_RESIZE_MAX_RANK]; /* first table entry of each table axis at this index */
    int32_t total = 1, e, k, c;
    for (k = 0; k < p->rank; ++k) {
        total *= p->dims[k];
    }
    for (e = 0; e < total; ++e, resize_next(p->rank, p->dims, index)) {
        int32_t base = 0, combos = 1, outside = 0;
        float acc = 0.0f;
        for (k = 0; k < p->rank; ++k) {
            if (p->taps[k] == 0) {
                base += index[k] * p->strides[k];
            } else {
                row[k] = p->table_start[k] + index[k] * p->taps[k];
                combos *= p->taps[k];
                outside |= p->offsets[row[k]] < 0;
            }
        }
        if (outside) {
            y[e] = p->value;
            continue;
        }
        for (c = 0; c < combos; ++c) { /* one tap per table axis, c read as a mixed-radix number */
            int32_t rest = c, src = base;
            float w = 1.0f;
            for (k = p->rank - 1; k >= 0; --k) {
                if (p->taps[k] != 0) {
                    const int32_t j = row[k] + rest % p->taps[k];
                    rest /= p->taps[k];
                    src += p->offsets[j];
                    w *= p->weights[j];
                }
            }
            acc += w * x[src];
        }
        y[e] = acc;
    }
}

void tinyc_resize_s8(const tinyc_resize_s8_params *p, const int8_t *x, int8_t *y)
{
    int32_t index[TINYC_RESIZE_MAX_RANK] = {0};
    int32_t total = 1, e, k;
    for (k = 0; k < p->rank; ++k) {
        total *= p->dims[k];
    }
    for (e = 0; e < total; ++e, resize_next(p->rank, p->dims, index)) {
        int32_t src = 0, outside = 0;
        for (k = 0; k < p->rank; ++k) {
            if (p->taps[k] == 0) {
                src += index[k] * p->strides[k];
            } else {
                const int32_t offset = p->offsets[p->table_start[k] + index[k]];
                outside |= offset < 0;
                src += offset;
            }
        }
        y[e] = outside ? (int8_t)p->value : x[src];
    }
}

void tinyc_resize_tflm_s8(const tinyc_resize_tflm_s8_params *p, const int8_t *x, int8_t *y)
{
    int32_t index[TINYC_RESIZE_MAX_RANK] = {0};
    int32_t row[TINYC_RESIZE_MAX_RANK];
    const int64_t half = (int64_t)1 << (p->shift - 1);
    int32_t total = 1, e, k, c;
    for (k = 0; k < p->rank; ++k) {
        total *= p->dims[k];
    }
    for (e = 0; e < total; ++e, resize_next(p->rank, p->dims, index)) {
        int32_t base = 0, combos = 1;
        int64_t acc = 0;
        for (k = 0; k < p->rank; ++k) {
            if (p->taps[k] == 0) {
                base += index[k] * p->strides[k];
            } else {
                row[k] = p->table_start[k] + index[k] * p->taps[k];
                combos *= p->taps[k];
            }
        }
        for (c = 0; c < combos; ++c) {
            int32_t rest = c, src = base;
            int64_t w = 1;
            for (k = p->rank - 1; k >= 0; --k) {
                if (p->taps[k] != 0) {
                    const int32_t j = row[k] + rest % p->taps[k];
                    rest /= p->taps[k];
                    src += p->offsets[j];
                    w *= p->weights[j];
                }
            }
            acc += w * x[src];
        }
        acc = (acc + (acc > 0 ? half : -half)) / ((int64_t)1 << p->shift);
        y[e] = (int8_t)(acc < -128 ? -128 : (acc > 127 ? 127 : acc));
    }
}
