/* tinyc_tensor.c: see tinyc_tensor.h. Portable C99; the _s8 paths have no float. */
#include <stdarg.h>
#include <string.h>

#include "tinyc_tensor.h"

/* The output of a variadic concat call: the argument after the `inputs` input pointers. */
static void *concat_output(int32_t inputs, va_list args)
{
    int32_t i;
    for (i = 0; i < inputs; ++i) {
        (void)va_arg(args, const void *);
    }
    return va_arg(args, void *);
}

void tinyc_concat_f32(const tinyc_concat_f32_params *p, ...)
{
    va_list args;
    float *y;
    int32_t total = 0, offset = 0, i, o;
    for (i = 0; i < p->inputs; ++i) {
        total += p->chunk[i];
    }
    va_start(args, p);
    y = (float *)concat_output(p->inputs, args);
    va_end(args);
    va_start(args, p);
    for (i = 0; i < p->inputs; offset += p->chunk[i], ++i) {
        const float *x = va_arg(args, const float *);
        for (o = 0; o < p->outer; ++o) {
            memcpy(y + o * total + offset, x + o * p->chunk[i], (size_t)p->chunk[i] * sizeof(float));
        }
    }
    va_end(args);
}

void tinyc_concat_s8(const tinyc_concat_s8_params *p, ...)
{
    va_list args;
    int8_t *y;
    int32_t total = 0, offset = 0, i, o, k;
    for (i = 0; i < p->inputs; ++i) {
        total += p->chunk[i];
    }
    va_start(args, p);
    y = (int8_t *)concat_output(p->inputs, args);
    va_end(args);
    va_start(args, p);
    for (i = 0; i < p->inputs; offset += p->chunk[i], ++i) {
        const int8_t *x = va_arg(args, const int8_t *);
        const int32_t n = p->chunk[i];
        for (o = 0; o < p->outer; ++o) {
            int8_t *dst = y + o * total + offset;
            const int8_t *src = x + o * n;
            if (p->table_offset[i] < 0) {
                memcpy(dst, src, (size_t)n);
            } else {
                const int8_t *table = p->tables + p->table_offset[i] + 128;
                for (k = 0; k < n; ++k) {
                    dst[k] = table[src[k]];
                }
            }
        }
    }
    va_end(args);
}

/* Where output row r (the three outer loops) reads x: its input row, or -1 when the row
 * lies in the padding. */
static int32_t pad_row_source(const int32_t *dims, const int32_t *begin, const int32_t *end, int32_t r)
{
    int32_t k, row = 0, index[3];
    for (k = 2; k >= 0; --k) {
        const int32_t out = dims[k] + begin[k] + end[k];
        index[k] = r % out - begin[k];
        r /= out;
    }
    for (k = 0; k < 3; ++k) {
        if (index[k] < 0 || index[k] >= dims[k]) {
            return -1;
        }
        row = row * dims[k] + index[k];
    }
    return row;
}

void tinyc_pad_f32(const tinyc_pad_f32_params *p, const float *x, float *y)
{
    const int32_t *d = p->input_dims, *b = p->pad_begin, *e = p->pad_end;
    const int32_t n = d[3], width = b[3] + d[3] + e[3];
    const int32_t rows = (d[0] + b[0] + e[0]) * (d[1] + b[1] + e[1]) * (d[2] + b[2] + e[2]);
    int32_t r, i;
    for (r = 0; r < rows; ++r, y += width) {
        const int32_t src = pad_row_source(d, b, e, r);
        for (i = 0; i < width; ++i) {
            y[i] = p->value;
        }
        if (src >= 0) {
            memcpy(y + b[3], x + src * n, (size_t)n * sizeof(float));
        }
    }
}

void tinyc_pad_s8(const tinyc_pad_s8_params *p, const int8_t *x, int8_t *y)
{
    const int32_t *d = p->input_dims, *b = p->pad_begin, *e = p->pad_end;
    const int32_t n = d[3], width = b[3] + d[3] + e[3];
    const int32_t rows = (d[0] + b[0] + e[0]) * (d[1] + b[1] + e[1]) * (d[2] + b[2] + e[2]);
    int32_t r;
    for (r = 0; r < rows; ++r, y += width) {
        const int32_t src = pad_row_source(d, b, e, r);
        if (src < 0) {
            memset(y, p->value, (size_t)width);
        } else {
            memset(y, p->value, (size_t)b[3]);
            memcpy(y + b[3], x + src * n, (size_t)n);
            memset(y + b[3] + n, p->value, (size_t)e[3]);
        }
    }
}

/* Odometer over all but the innermost dim: the x offset where the next output row starts. */
static int32_t strided_next_row(const tinyc_strided_copy_params *p, int32_t *index, int32_t src)
{
    int32_t k;
    for (k = p->rank - 2; k >= 0; --k) {
        src += p->input_strides[k];
        if (++index[k] < p->dims[k]) {
            return src;
        }
        src -= p->input_strides[k] * p->dims[k];
        index[k] = 0;
    }
    return src;
}

static int32_t strided_rows(const tinyc_strided_copy_params *p)
{
    int32_t rows = 1, k;
    for (k = 0; k < p->rank - 1; ++k) {
        rows *= p->dims[k];
    }
    return rows;
}

void tinyc_strided_copy_f32(const tinyc_strided_copy_params *p, const float *x, float *y)
{
    const int32_t n = p->dims[p->rank - 1], step = p->input_strides[p->rank - 1], rows = strided_rows(p);
    int32_t index[TINYC_STRIDED_MAX_RANK] = {0};
    int32_t r, i, src = p->offset;
    for (r = 0; r < rows; ++r) {
        if (step == 1) {
            memcpy(y, x + src, (size_t)n * sizeof(float));
            y += n;
        } else {
            for (i = 0; i < n; ++i) {
                *y++ = x[src + i * step];
            }
        }
        src = strided_next_row(p, index, src);
    }
}

void tinyc_strided_copy_s8(const tinyc_strided_copy_params *p, const int8_t *x, int8_t *y)
{
    const int32_t n = p->dims[p->rank - 1], step = p->input_strides[p->rank - 1], rows = strided_rows(p);
    int32_t index[TINYC_STRIDED_MAX_RANK] = {0};
    int32_t r, i, src = p->offset;
    for (r = 0; r < rows; ++r) {
        if (step == 1) {
            memcpy(y, x + src, (size_t)n);
            y += n;
        } else {
            for (i = 0; i < n; ++i) {
                *y++ = x[src + i * step];
            }
        }
        src = strided_next_row(p, index, src);
    }
}

void tinyc_gather_f32(const tinyc_gather_params *p, const float *x, float *y)
{
    const size_t bytes = (size_t)p->inner * sizeof(float);
    int32_t o, j;
    for (o = 0; o < p->outer; ++o, x += p->input_rows * p->inner) {
        for (j = 0; j < p->count; ++j, y += p->inner) {
            memcpy(y, x + p->indices[j] * p->inner, bytes);
        }
    }
}

void tinyc_gather_s8(const tinyc_gather_params *p, const int8_t *x, int8_t *y)
{
    int32_t o, j;
    for (o = 0; o < p->outer; ++o, x += p->input_rows * p->inner) {
        for (j = 0; j < p->count; ++j, y += p->inner) {
            memcpy(y, x + p->indices[j] * p->inner, (size_t)p->inner);
        }
    }
}

void tinyc_copy(const tinyc_copy_params *p, const void *x, void *y)
{
    if (p->bytes > 0) {
        memcpy(y, x, (size_t)p->bytes);
    }
}

/* The row an index selects: negative from the end, clamped into [0, rows). */
static int32_t indexed_row(int64_t idx, int32_t rows)
{
    if (idx < 0) {
        idx += rows;
    }
    return idx < 0 ? 0 : (idx >= rows ? rows - 1 : (int32_t)idx);
}

#define TINYC_GATHER_INDEXED(p, x, indices, y)                                                               \
    do {                                                                                                     \
        int32_t o, k;                                                                                        \
        for (o = 0; o < (p)->outer; ++o) {                                                                   \
            for (k = 0; k < (p)->count; ++k) {                                                               \
                const int32_t row = indexed_row((indices)[k], (p)->input_rows);                              \
                memcpy((y) + ((size_t)o * (size_t)(p)->count + (size_t)k) * (size_t)(p)->inner,              \
                       (x) + ((size_t)o * (size_t)(p)->input_rows + (size_t)row) * (size_t)(p)->inner,       \
                       (size_t)(p)->inner * sizeof(*(y)));                                                    \
            }                                                                                                \
        }                                                                                                    \
    } while (0)

void tinyc_gather_indexed_f32(const tinyc_gather_indexed_params *p, const float *x, const int64_t *indices, float *y)
{
    TINYC_GATHER_INDEXED(p, x, indices, y);
}

void tinyc_gather_indexed_s8(const tinyc_gather_indexed_params *p, const int8_t *x, const int64_t *indices, int8_t *y)
{
    TINYC_GATHER_INDEXED(p, x, indices, y);
}
