/* tinyc_arg.h: index ops along one axis: argmax/argmin and top-k. x is viewed as
 * [outer, axis_size, inner]; indices are int64_t along the axis. int8 compares the int8 values
 * (dequantizing is increasing), so int8 and float32 give the same indices. No scratch; outputs
 * must not alias x. As tinyc/ops/arg.py. */
#ifndef TINYC_ARG_H
#define TINYC_ARG_H

#include "tinyc_common.h"

/* y[o, i] = index along the axis of the largest (smallest) x[o, :, i]; ties: the first, or the
 * last when `last` is set. A NaN counts as larger than any number (numpy's argmax and argmin
 * both return the first NaN). axis_size >= 1. */
typedef struct {
    int32_t outer, axis_size, inner;
    int32_t smallest; /* 1: argmin */
    int32_t last;     /* 1: select_last_index */
} tinyc_argmax_params;

void tinyc_argmax_f32(const tinyc_argmax_params *p, const float *x, int64_t *y);
void tinyc_argmax_s8(const tinyc_argmax_params *p, const int8_t *x, int64_t *y);

/* values[o, j, i], indices[o, j, i] for j < k = the k largest (smallest) x[o, :, i], best first;
 * equal values keep the lower index first. Insertion into the outputs: O(axis_size * k). */
typedef struct {
    int32_t outer, axis_size, inner;
    int32_t k;       /* 0 ..axis_size */
    int32_t largest; /* 0: the smallest */
} tinyc_topk_params;

void tinyc_topk_f32(const tinyc_topk_params *p, const float *x, float *values, int64_t *indices);
void tinyc_topk_s8(const tinyc_topk_params *p, const int8_t *x, int8_t *values, int64_t *indices);

#endif /* TINYC_ARG_H */
