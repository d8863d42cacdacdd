/* tinyc_resize.h: Resize with compile-time tap tables. No scratch; y must not alias x.
 *
 * y is dense over dims[0..rank) (rank <= 6). A copy axis (taps[k] == 0) steps strides[k]
 * elements of x. A table axis reads, for output index i, taps[k] entries from
 * offsets/weights at table_start[k] + i * taps[k]: input element offsets (index x stride)
 * and weights. y = sum over one tap per table axis of x[copy offset + tap offsets] times
 * the product of the tap weights; where an axis's tap 0 offset is -1 (outside the crop of
 * tf_crop_and_resize), y = value. */
#ifndef TINYC_RESIZE_H
#define TINYC_RESIZE_H

#include "tinyc_common.h"

#define TINYC_RESIZE_MAX_RANK 6

/* The loops every resize kernel walks; weights live in the kernel's own params. */
typedef struct {
    int32_t rank;
    const int32_t *dims;        /* [rank] */
    const int32_t *taps;        /* [rank]: 0 marks a copy axis */
    const int32_t *strides;     /* [rank]: x stride of a copy axis */
    const int32_t *table_start; /* [rank]: first entry of a table axis in offsets/weights */
    const int32_t *offsets;     /* [sum of dims[k] * taps[k]] */
} tinyc_resize_loops;

typedef struct {
    tinyc_resize_loops loops;
    const float *weights; /* [like offsets] */
    float value;          /* extrapolation value */
} tinyc_resize_f32_params;

/* int8 nearest: one tap per table axis, a copy; y keeps x's q. */
typedef struct {
    tinyc_resize_loops loops; /* taps 0 or 1 */
    int32_t value;            /* extrapolation value quantized with x's q */
} tinyc_resize_s8_params;

/* int8 linear, TFLite's RESIZE_BILINEAR (ResizeBilinearInteger) then its int8 -> int8 requantization:
 * v = sum of raw x times integer weights (1/1024 units per table axis, product in int64), divided by
 * 2^shift rounding half away from zero, saturated to int8; y = clamp(output_zp + requantize(v - input_zp,
 * multiplier, requant_shift)) (identity when x and y share q: multiplier 2^30, shift 1). */
typedef struct {
    tinyc_resize_loops loops;
    const int32_t *weights; /* [like offsets], sum 1024 per output index of an axis */
    int32_t shift;          /* 10 x the number of table axes */
    int32_t input_zp, output_zp;
    int32_t multiplier, requant_shift; /* x's scale / y's scale */
    int32_t value;          /* extrapolation value quantized with y's q */
} tinyc_resize_linear_s8_params;

void tinyc_resize_f32(const tinyc_resize_f32_params *p, const float *x, float *y);
void tinyc_resize_s8(const tinyc_resize_s8_params *p, const int8_t *x, int8_t *y);
void tinyc_resize_linear_s8(const tinyc_resize_linear_s8_params *p, const int8_t *x, int8_t *y);

#endif /* TINYC_RESIZE_H */
