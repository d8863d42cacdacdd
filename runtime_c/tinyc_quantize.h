/* tinyc_quantize.h: the boundary between int8 and float32 layers of a mixed-precision model
 * (`--float-layers`): float32 -> int8 and int8 -> float32 with one tensor's scale and zero point.
 * Single-precision arithmetic only, so it is bit-exact wherever float is IEEE (FPU or libgcc's
 * soft float). As tinyc/ops/boundary.py. No scratch; y must not alias x. */
#ifndef TINYC_QUANTIZE_H
#define TINYC_QUANTIZE_H

#include "tinyc_common.h"

typedef struct {
    int32_t size;       /* elements */
    float scale;        /* of the int8 tensor: real = scale * (q - zero_point) */
    int32_t zero_point;
} tinyc_quantize_params;

/* TFLite's QUANTIZE: y = clamp(round(x / scale) + zero_point, -128, 127), the division in float,
 * ties away from zero; a NaN gives the zero point. */
void tinyc_quantize_f32_s8(const tinyc_quantize_params *p, const float *x, int8_t *y);

/* TFLite's DEQUANTIZE: y = (float)(x - zero_point) * scale, one float rounding. */
void tinyc_dequantize_s8_f32(const tinyc_quantize_params *p, const int8_t *x, float *y);

#endif /* TINYC_QUANTIZE_H */
