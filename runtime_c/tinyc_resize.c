/* tinyc_resize.c: see tinyc_resize.h. Portable C99; the _s8 paths have no float. */
#include "tinyc_resize.h"

static int32_t resize_total(const tinyc_resize_loops *l)
{
    int32_t total = 1, k;
    for (k = 0; k < l->rank; ++k) {
        total *= l->dims[k];
    }
    return total;
}

/* The next output index (odometer over dims, last fastest). */
static void resize_next(const tinyc_resize_loops *l, int32_t *index)
{
    int32_t k;
    for (k = l->rank - 1; k >= 0; --k) {
        if (++index[k] < l->dims[k]) {
            return;
        }
        index[k] = 0;
    }
}

/* At an output index: the x offset of the copy axes (*base), each table axis's first entry (row[k]);
 * returns the number of tap combinations, 0 when the point is outside (tap 0 offset -1). */
static int32_t resize_locate(const tinyc_resize_loops *l, const int32_t *index, int32_t *row, int32_t *base)
{
    int32_t k, combos = 1, outside = 0;
    *base = 0;
    for (k = 0; k < l->rank; ++k) {
        if (l->taps[k] == 0) {
            *base += index[k] * l->strides[k];
        } else {
            row[k] = l->table_start[k] + index[k] * l->taps[k];
            combos *= l->taps[k];
            outside |= l->offsets[row[k]] < 0;
        }
    }
    return outside ? 0 : combos;
}

/* Tap combination c (one tap per table axis, c read as a mixed-radix number): the table entry of each
 * table axis (entry[k]); returns the x offset. */
static int32_t resize_tap(const tinyc_resize_loops *l, const int32_t *row, int32_t c, int32_t base, int32_t *entry)
{
    int32_t k, rest = c, src = base;
    for (k = l->rank - 1; k >= 0; --k) {
        if (l->taps[k] != 0) {
            entry[k] = row[k] + rest % l->taps[k];
            rest /= l->taps[k];
            src += l->offsets[entry[k]];
        }
    }
    return src;
}

void tinyc_resize_f32(const tinyc_resize_f32_params *p, const float *x, float *y)
{
    const tinyc_resize_loops *l = &p->loops;
    int32_t index[TINYC_RESIZE_MAX_RANK] = {0};
    int32_t row[TINYC_RESIZE_MAX_RANK], entry[TINYC_RESIZE_MAX_RANK];
    const int32_t total = resize_total(l);
    int32_t e, k, c;
    for (e = 0; e < total; ++e, resize_next(l, index)) {
        int32_t base;
        const int32_t combos = resize_locate(l, index, row, &base);
        float acc = 0.0f;
        for (c = 0; c < combos; ++c) {
            const int32_t src = resize_tap(l, row, c, base, entry);
            float w = 1.0f;
            for (k = 0; k < l->rank; ++k) {
                w *= l->taps[k] != 0 ? p->weights[entry[k]] : 1.0f;
            }
            acc += w * x[src];
        }
        y[e] = combos ? acc : p->value;
    }
}

void tinyc_resize_s8(const tinyc_resize_s8_params *p, const int8_t *x, int8_t *y)
{
    const tinyc_resize_loops *l = &p->loops;
    int32_t index[TINYC_RESIZE_MAX_RANK] = {0};
    const int32_t total = resize_total(l);
    int32_t e, k;
    for (e = 0; e < total; ++e, resize_next(l, index)) {
        int32_t src = 0, outside = 0;
        for (k = 0; k < l->rank; ++k) {
            if (l->taps[k] == 0) {
                src += index[k] * l->strides[k];
            } else {
                const int32_t offset = l->offsets[l->table_start[k] + index[k]];
                outside |= offset < 0;
                src += offset;
            }
        }
        y[e] = outside ? (int8_t)p->value : x[src];
    }
}

void tinyc_resize_linear_s8(const tinyc_resize_linear_s8_params *p, const int8_t *x, int8_t *y)
{
    const tinyc_resize_loops *l = &p->loops;
    const tinyc_clamp int8_range = {-128, 127};
    const int64_t half = (int64_t)1 << (p->shift - 1);
    int32_t index[TINYC_RESIZE_MAX_RANK] = {0};
    int32_t row[TINYC_RESIZE_MAX_RANK], entry[TINYC_RESIZE_MAX_RANK];
    const int32_t total = resize_total(l);
    int32_t e, k, c;
    for (e = 0; e < total; ++e, resize_next(l, index)) {
        int32_t base, v;
        const int32_t combos = resize_locate(l, index, row, &base);
        int64_t acc = 0;
        if (combos == 0) {
            y[e] = (int8_t)p->value;
            continue;
        }
        for (c = 0; c < combos; ++c) {
            const int32_t src = resize_tap(l, row, c, base, entry);
            int64_t w = 1;
            for (k = 0; k < l->rank; ++k) {
                w *= l->taps[k] != 0 ? p->weights[entry[k]] : 1;
            }
            acc += w * x[src];
        }
        /* TFLite's ResizeBilinearInteger: round half away from zero (C division truncates) */
        acc = (acc + (acc > 0 ? half : -half)) / ((int64_t)1 << p->shift);
        v = (int32_t)(acc < -128 ? -128 : (acc > 127 ? 127 : acc));
        y[e] = tinyc_requantize_s8(v - p->input_zp, p->multiplier, p->requant_shift, p->output_zp, int8_range);
    }
}
