/* tinyc_reduce.h: reductions over any set of axes (sum, mean, max, min, L2 norm, sum of
 * squares) and the cumulative sum along one axis. float32 and int8 (not the cumulative sum),
 * no scratch. float sums accumulate in x's row-major order, as tinyc/ops/reduce.py. */
#ifndef TINYC_REDUCE_H
#define TINYC_REDUCE_H

#include "tinyc_loops.h"

#define TINYC_REDUCE_SUM 0
#define TINYC_REDUCE_MEAN 1        /* sum / count */
#define TINYC_REDUCE_MAX 2         /* a NaN anywhere gives NaN, as numpy */
#define TINYC_REDUCE_MIN 3
#define TINYC_REDUCE_L2 4          /* sqrtf(sum of x * x) */
#define TINYC_REDUCE_SUM_SQUARE 5  /* sum of x * x */

/* y[o] = reduce over the reduced loops of x, for o over the kept loops (y is dense in kept
 * order). w_strides are unused (all 0). y must not alias x. */
typedef struct {
    int32_t kind;        /* TINYC_REDUCE_* */
    int32_t count;       /* elements per reduction (product of the reduced dims), >= 1 */
    tinyc_loops kept;    /* over y */
    tinyc_loops reduced; /* over one reduction */
} tinyc_reduce_f32_params;

void tinyc_reduce_f32(const tinyc_reduce_f32_params *p, const float *x, float *y);

/* int8: y[o] = clamp(requantize(acc) + output_zp) with acc over the reduced loops of d = x - input_zp:
 * SUM and MEAN the int32 sum of d (TFLite's QuantizedMeanOrSum: the mean's multiplier and shift
 * include 1 / count), MAX and MIN the largest or smallest d, SUM_SQUARE the int32 sum of d * d, L2
 * the square root of the int64 sum of d * d in Q8 (tinyc_inv_sqrt). count * 255 (SUM, MEAN),
 * count * 255^2 (SUM_SQUARE) below 2^31, count <= 2^22 (L2). y must not alias x. */
#define TINYC_REDUCE_L2_FRACTION_BITS 8

typedef struct {
    int32_t kind; /* TINYC_REDUCE_* */
    int32_t input_zp, count, multiplier, shift, output_zp;
    int32_t pre_shift; /* acc * 2^pre_shift before the requantization: more fractional bits, one rounding */
    tinyc_loops kept;
    tinyc_loops reduced;
} tinyc_reduce_s8_params;

void tinyc_reduce_s8(const tinyc_reduce_s8_params *p, const int8_t *x, int8_t *y);

/* Cumulative sum along one axis of x viewed as [outer, axis_size, inner]; exclusive leaves out
 * the element itself (the first output is 0), reverse runs from the end. y may alias x. */
typedef struct {
    int32_t outer, axis_size, inner;
    int32_t exclusive, reverse;
} tinyc_cumsum_f32_params;

void tinyc_cumsum_f32(const tinyc_cumsum_f32_params *p, const float *x, float *y);

/* int8: an int32 running sum of x - input_zp, each output requantized once (s_in / s_out) and
 * saturated. axis_size * 255 fits int32 (the compiler checks). y may alias x. */
typedef struct {
    int32_t outer, axis_size, inner;
    int32_t exclusive, reverse;
    int32_t input_zp, multiplier, shift, output_zp;
} tinyc_cumsum_s8_params;

void tinyc_cumsum_s8(const tinyc_cumsum_s8_params *p, const int8_t *x, int8_t *y);

#endif /* TINYC_REDUCE_H */
