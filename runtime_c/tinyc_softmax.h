/* tinyc_softmax.h: softmax and log softmax along one axis of a tensor viewed as
 * [outer, axis_size, inner]. No scratch. y may alias x: element i is written only after it is
 * read for the last time. */
#ifndef TINYC_SOFTMAX_H
#define TINYC_SOFTMAX_H

#include "tinyc_common.h"

typedef struct {
    int32_t outer, axis_size, inner; /* element counts before, along and after the axis */
} tinyc_softmax_f32_params;

/* int8, integer only; output q is scale 1 / levels, zero point out_zp (TFLite's 1/256, -128 unless
 * the model gives its own). Per row: d = max - x in [0, 255];
 * y = clamp((E[d] * levels + sum / 2) / sum + out_zp), where E[d] = round(exp(-d * s_in) * 2^20) and
 * sum = sum of E over the row: one rounding straight to the output's grid. axis_size <= 4095 and
 * levels <= 256, so every intermediate fits uint32 (the compiler checks). */
typedef struct {
    int32_t outer, axis_size, inner;
    const uint32_t *exp_table; /* 256 entries, E[0] = 2^20 */
    uint32_t levels;           /* 1 / output scale, 1 to 256 */
    int32_t out_zp;
} tinyc_softmax_s8_params;

/* int8 by TensorFlow Lite Micro's reference rule (reference/softmax.h), bit for bit; output q fixed
 * at 1/256, -128. exp_table[d] = exp(-d * beta * s_in) in Q0.31 as gemmlowp computes it (0 below
 * TFLM's diff_min); per row the Q12.19 sum of exps, its reciprocal by gemmlowp's Newton-Raphson, then
 * y = RoundingDivideByPOT(SRDHM(reciprocal, E[d]), bits) - 128. axis_size < 4096 (the sum fits). */
typedef struct {
    int32_t outer, axis_size, inner;
    const int32_t *exp_table; /* 256 entries, E[0] = INT32_MAX */
} tinyc_softmax_tflm_s8_params;

/* int8 log softmax by TensorFlow Lite Micro's reference rule (reference/log_softmax.h), bit for bit, any
 * axis; output q fixed at 16/256, 127. Per row: the Q12.19 sum of exp_table[max - x], its log in Q5.26
 * (TFLite's log_x_for_x_greater_than_or_equal_to_1), then for each difference d = x - max above
 * max(diff_min - 1, the log's floor) y = RoundingDivideByPOT(d in Q5.26 - log, 22) + 127, else -128.
 * axis_size < 4096 (the sum fits int32). */
typedef struct {
    int32_t outer, axis_size, inner;
    int32_t input_multiplier, input_shift;     /* d -> Q5.26: MultiplyByQuantizedMultiplier */
    int32_t reverse_multiplier, reverse_shift; /* Q5.26 -> d */
    int32_t diff_min;                          /* d below it adds nothing to the sum */
    const int32_t *exp_table; /* 256 entries: exp(-k in Q5.26) in Q12.19, 0 below diff_min */
} tinyc_log_softmax_s8_params;

void tinyc_softmax_f32(const tinyc_softmax_f32_params *p, const float *x, float *y);
/* float32 log softmax: y = (x - max) - logf(sum of expf(x - max)), same params as softmax. */
void tinyc_log_softmax_f32(const tinyc_softmax_f32_params *p, const float *x, float *y);
void tinyc_softmax_s8(const tinyc_softmax_s8_params *p, const int8_t *x, int8_t *y);
void tinyc_softmax_tflm_s8(const tinyc_softmax_tflm_s8_params *p, const int8_t *x, int8_t *y);
void tinyc_log_softmax_s8(const tinyc_log_softmax_s8_params *p, const int8_t *x, int8_t *y);

#endif /* TINYC_SOFTMAX_H */
