/* tinyc_resize.h: Resize with compile-time tap tables. No scratch; y must not alias x.
 *
 * y is dense over dims[0..rank) (rank <= 6). A copy axis (taps[k] == 0) steps strides[k]
 * elements of x. A table axis reads, for output index i, taps[k] entries from
 * offsets/weights at table_start[k] + i * taps[k]: input element offsets (index x stride)
 * and weights. y = sum over one tap per table axis of x[copy offset + tap offsets] times
 * the product of the tap weights; where an axis's tap 0 offset is -1 (outside the crop of
 * tf_crop_and_resize), y = value. The int8 kernel takes one tap per axis (nearest): a copy,
 * y keeps x's q. */
#ifndef TINYC_RESIZE_H
#define TINYC_RESIZE_H

#include "tinyc_common.h"

#define TINYC_RESIZE_MAX_RANK 6

typedef struct {
    int32_t rank;
    const int32_t *dims;        /* [rank] */
    const int32_t *taps;        /* [rank]: 0 marks a copy axis */
    const int32_t *strides;     /* [rank]: x stride of a copy axis */
    const int32_t *table_start; /* [rank]: first entry of a table axis in offsets/weights */
    const int32_t *offsets;     /* [sum of dims[k] * taps[k]] */
    const float *weights;       /* [like offsets] */
    float value;                /* extrapolation value */
} tinyc_resize_f32_params;

typedef struct {
    int32_t rank;
    const int32_t *dims;
    const int32_t *taps;        /* 0 or 1 */
    const int32_t *strides;
    const int32_t *table_start;
    const int32_t *offsets;
    int32_t value; /* extrapolation value quantized with x's q */
} tinyc_resize_s8_params;

/* TFLM's int8 bilinear (a .tflite model): as tinyc_resize_f32 on the raw int8 values with integer
 * weights (1/1024 units per table axis), the sum in int64 divided by 2^shift rounding half away
 * from zero (TFLM's ResizeBilinearInteger). No extrapolation. */
typedef struct {
    int32_t rank;
    const int32_t *dims;
    const int32_t *taps;
    const int32_t *strides;
    const int32_t *table_start;
    const int32_t *offsets;
    int32_t value;            /* unused */
    const int32_t *weights;   /* [like offsets] */
    int32_t shift;            /* 10 x the number of table axes */
} tinyc_resize_tflm_s8_params;

void tinyc_resize_tflm_s8(const tinyc_resize_tflm_s8_params *p, const int8_t *x, int8_t *y);
void tinyc_resize_f32(const tinyc_resize_f32_params *p, const float *x, float *y);
void tinyc_resize_s8(const tinyc_resize_s8_params *p, const int8_t *x, int8_t *y);

#endif /* TINYC_RESIZE_H */
