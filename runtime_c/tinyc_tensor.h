/* tinyc_tensor.h: data movement: concat, pad, strided copy, gather. No scratch; y must not alias an input.
 * int8 output keeps the input's q (pad, transpose) or has its own (concat, via tables). */
#ifndef TINYC_TENSOR_H
#define TINYC_TENSOR_H

#include "tinyc_common.h"

/* Concat along one axis. Input i is `outer` runs of chunk[i] contiguous elements (its axis
 * size times the elements after the axis); y interleaves them run by run. The kernels are
 * variadic, called as k(&params, x0, x1, ..., y): `inputs` pointers (const int8_t * or
 * const float *) then the output, because the input count varies per node. */
typedef struct {
    int32_t outer;
    int32_t inputs;
    const int32_t *chunk; /* [inputs] */
} tinyc_concat_f32_params;

typedef struct {
    int32_t outer;
    int32_t inputs;
    const int32_t *chunk;        /* [inputs] */
    const int32_t *table_offset; /* [inputs]: -1 copies, else y = tables[offset + x + 128] */
    const int8_t *tables;        /* 256 entries per rescaled input */
} tinyc_concat_s8_params;

void tinyc_concat_f32(const tinyc_concat_f32_params *p, ...);
void tinyc_concat_s8(const tinyc_concat_s8_params *p, ...);

/* Constant pad over 4 loops, outermost first (unpadded dims merged by the compiler):
 * y dim k = input_dims[k] + pad_begin[k] + pad_end[k], filled with value outside x. */
typedef struct {
    const int32_t *input_dims; /* [4] */
    const int32_t *pad_begin;  /* [4] */
    const int32_t *pad_end;    /* [4] */
    float value;
} tinyc_pad_f32_params;

typedef struct {
    const int32_t *input_dims;
    const int32_t *pad_begin;
    const int32_t *pad_end;
    int32_t value; /* the pad value quantized with the input's q */
} tinyc_pad_s8_params;

void tinyc_pad_f32(const tinyc_pad_f32_params *p, const float *x, float *y);
void tinyc_pad_s8(const tinyc_pad_s8_params *p, const int8_t *x, int8_t *y);

/* Strided copy (transpose, slice, split, expand, tile, regular gather): y is dense over
 * dims[0..rank) (rank <= 8, merged by the compiler); y's first element is x[offset], and
 * stepping dim k of y steps input_strides[k] elements of x (0 repeats, negative walks back). */
#define TINYC_STRIDED_MAX_RANK 8

typedef struct {
    int32_t rank;
    int32_t offset;
    const int32_t *dims;          /* [rank] */
    const int32_t *input_strides; /* [rank] */
} tinyc_strided_copy_params;

void tinyc_strided_copy_f32(const tinyc_strided_copy_params *p, const float *x, float *y);
void tinyc_strided_copy_s8(const tinyc_strided_copy_params *p, const int8_t *x, int8_t *y);

/* Gather along one axis: x is (outer, input_rows, inner), y is (outer, count, inner) with
 * y[o, j, :] = x[o, indices[j], :]; indices in [0, input_rows). */
typedef struct {
    int32_t outer;
    int32_t input_rows;
    int32_t count;
    int32_t inner;
    const int32_t *indices; /* [count] */
} tinyc_gather_params;

void tinyc_gather_f32(const tinyc_gather_params *p, const float *x, float *y);
void tinyc_gather_s8(const tinyc_gather_params *p, const int8_t *x, int8_t *y);

/* Gather with indices read at run time (int64, e.g. token ids): for each of `outer` blocks and each of
 * `count` indices, `inner` elements of row idx of the `input_rows` rows; a negative idx counts from the
 * end and an idx out of range is clamped into it, so no input makes the kernel read outside x. */
typedef struct {
    int32_t outer, input_rows, count, inner;
} tinyc_gather_indexed_params;

void tinyc_gather_indexed_f32(const tinyc_gather_indexed_params *p, const float *x, const int64_t *indices, float *y);
void tinyc_gather_indexed_s8(const tinyc_gather_indexed_params *p, const int8_t *x, const int64_t *indices, int8_t *y);

/* A constant output: `bytes` bytes of x (in flash) copied to y. */
typedef struct {
    int32_t bytes;
} tinyc_copy_params;

void tinyc_copy(const tinyc_copy_params *p, const void *x, void *y);

#endif /* TINYC_TENSOR_H */
