/* tinyc_dense.h: fully connected (constant weights) and matmul (two activations), int8 and float32.
 * Row-major: x (rows, K), w (M, K) as ONNX Gemm with transB = 1, y (rows, M). No scratch. */
#ifndef TINYC_DENSE_H
#define TINYC_DENSE_H

#include "tinyc_common.h"

/* Rows per block of the int8 weight layout. */
#define TINYC_DENSE_BLOCK 6

/* int8: y[r][m] = clamp(requantize(sat32(bias[m] + sum_k (x[r][k] - input_zp) * w[m][k]),
 * multiplier[m], shift[m]) + output_zp).
 * weights: the int8 W (M, K), same bytes, reordered (tinyc/ops/dense.py dense_block_layout): the first
 * M - M % 6 rows in blocks of 6, each block = for every 16 inputs k16 < K - K % 16, the 16 weights of row 0,
 * then of row 1, ... row 5 (a Helium vector per row); then for every 4 inputs k4 < K - K % 4 of the rest,
 * the 4 weights of row 0, ... row 5 (a word per row); then the K % 4 last weights of row 0, ... row 5.
 * The last M % 6 rows follow row-major. One pointer walks a block and 6 rows share each x load. */
typedef struct {
    int32_t rows, in_features, out_features;
    const int8_t *weights;
    int32_t input_zp;   /* in [-128, 127] */
    int32_t output_zp;  /* in [-128, 127] */
    tinyc_requant_pc requant;  /* one per output feature */
    tinyc_clamp clamp;
    /* The zero point leaves the inner loop; exactly one of the two is set (the Python op picks):
     * bias_folded (M): bias[m] - input_zp * sum_k w[m][k], when |bias_folded| + 128 * sum_k |w[m][k]| < 2^31
     *   (no int32 saturation can occur; the kernel's bias argument is then NULL);
     * weight_sums (M): sum_k w[m][k], otherwise (the bias is added with saturation). */
    const int32_t *bias_folded;
    const int32_t *weight_sums;
} tinyc_dense_s8_params;

typedef struct {
    int32_t rows, in_features, out_features;
    tinyc_clamp_f32 clamp;
} tinyc_dense_f32_params;

/* x int8, weights int8 in [-127, 127], bias int32 (M) or NULL. Exact for K < 66000 (int32 sum).
 * With TINYC_HAS_MVE: 6 output rows and 16 inputs per step (VMLADAVA); with TINYC_HAS_DSP 4 inputs per step
 * (SXTB16 + SMLAD); same bits as the portable loop. */
void tinyc_dense_s8(const tinyc_dense_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y);
void tinyc_dense_f32(const tinyc_dense_f32_params *p, const float *x, const float *w,
                     const float *bias, float *y);

/* y[i0][i1] = a[i0][i1] (M, K) @ b[i0][i1] (K, N) for i0 < outer0, i1 < outer1 (numpy broadcasting:
 * a matrix starts at i0 * a_stride0 + i1 * a_stride1 elements, a stride 0 repeats it). y is contiguous. */
typedef struct {
    int32_t outer0, outer1;
    int32_t a_stride0, a_stride1, b_stride0, b_stride1;
    int32_t m, k, n;
} tinyc_matmul_shape;

/* int8: y = clamp(requantize(sum_k (a - a_zp) * (b - b_zp), multiplier, shift) + output_zp),
 * one per-tensor multiplier (real value s_a * s_b / s_out). */
typedef struct {
    tinyc_matmul_shape shape;
    int32_t a_zp, b_zp, output_zp;  /* in [-128, 127] */
    int32_t multiplier, shift;
    tinyc_clamp clamp;
} tinyc_matmul_s8_params;

typedef struct {
    tinyc_matmul_shape shape;
    tinyc_clamp_f32 clamp;
} tinyc_matmul_f32_params;

/* a, b int8 activations; exact for K < 33000 (|a - a_zp|, |b - b_zp| <= 255). */
void tinyc_matmul_s8(const tinyc_matmul_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y);
void tinyc_matmul_f32(const tinyc_matmul_f32_params *p, const float *a, const float *b, float *y);

#endif /* TINYC_DENSE_H */
