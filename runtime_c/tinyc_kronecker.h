/* tinyc_kronecker.h: dense layers with a Kronecker-factored weight W = A (x) B (np.kron layout),
 * plain (kp) or doped with a CSR residual (dkp), int8 and float32. W is never formed.
 *
 * Layout: A (m1, k1) and B (m2, k2) row-major; M = m1*m2 outputs, K = k1*k2 inputs. Each input vector
 * x (K elements, in_feature_stride apart) is viewed as X (k1, k2) row-major and y = vec(A X B^T).
 * a_first = 1: T = A X (m1, k2), then y[i1][i2] = T[i1] . B[i2]        (m1*k1*k2 + m1*m2*k2 MACs)
 * a_first = 0: T = B X^T (m2, k1), then y[i1][i2] = A[i1] . T[i2]      (m2*k2*k1 + m1*m2*k1 MACs)
 * Scratch: T, (a_first ? m1*k2 : m2*k1) elements: int16_t in _s8 kernels, float in _f32 kernels.
 * Vectors: rows of a dense layer (row strides K and M, feature strides 1) or the pixels of a 1x1
 * conv on NCHW, batch 1 (row strides 1, feature strides H*W). */
#ifndef TINYC_KRONECKER_H
#define TINYC_KRONECKER_H

#include "tinyc_common.h"

typedef struct {
    int32_t rows;  /* input vectors */
    int32_t m1, k1, m2, k2;
    int32_t in_row_stride, in_feature_stride;    /* elements */
    int32_t out_row_stride, out_feature_stride;  /* elements */
} tinyc_kp_shape;

/* A CSR matrix (M rows, K columns) as tinyc/sparse.py encode_csr stores it: index arrays in the
 * narrowest unsigned type that fits (uint8_t, uint16_t or uint32_t: *_bytes = 1, 2 or 4). */
typedef struct {
    const int8_t *values;
    const void *cols;     /* column of each value */
    int32_t col_bytes;
    const void *row_ptr;  /* M + 1 offsets into values */
    int32_t row_ptr_bytes;
} tinyc_kp_csr_s8;

typedef struct {
    const float *values;
    const void *cols;
    int32_t col_bytes;
    const void *row_ptr;
    int32_t row_ptr_bytes;
} tinyc_kp_csr_f32;

/* int8 (tinyc/ops/kronecker.py has the whole scheme): T = sat16(requantize(F (X - input_zp),
 * stage_multiplier, stage_shift)) with F the first factor; acc = int32 dot products of T with the
 * other factor; y = clamp(requantize(sat32(acc + bias), requant[i1]) + output_zp), i1 = row of A. */
typedef struct {
    tinyc_kp_shape shape;
    int32_t a_first;
    int32_t input_zp, output_zp;  /* in [-128, 127] */
    int32_t stage_multiplier, stage_shift;  /* int32 T -> int16 T; never saturates */
    tinyc_requant_pc requant;  /* m1 entries: one per row of A */
    tinyc_clamp clamp;
} tinyc_dense_kp_s8_params;

/* Doped: acc += sat32(requantize(sum_n values[n] * (x[cols[n]] - input_zp), residual_requant[i1])),
 * the residual's row m = i1 * m2 + i2 of W - A (x) B, before the bias. */
typedef struct {
    tinyc_dense_kp_s8_params kp;
    tinyc_kp_csr_s8 residual;
    tinyc_requant_pc residual_requant;  /* m1 entries */
} tinyc_dense_dkp_s8_params;

typedef struct {
    tinyc_kp_shape shape;
    int32_t a_first;
    tinyc_clamp_f32 clamp;
} tinyc_dense_kp_f32_params;

typedef struct {
    tinyc_dense_kp_f32_params kp;
    tinyc_kp_csr_f32 residual;
} tinyc_dense_dkp_f32_params;

/* a, b int8 in [-127, 127]; bias int32 (M) or NULL; scratch int16_t[a_first ? m1*k2 : m2*k1].
 * Exact when 32767 * (largest row L1 of the second factor) < 2^31 (the compiler checks). */
void tinyc_dense_kp_s8(const tinyc_dense_kp_s8_params *p, const int8_t *x, const int8_t *a, const int8_t *b,
                       const int32_t *bias, int8_t *y, void *scratch);
void tinyc_dense_dkp_s8(const tinyc_dense_dkp_s8_params *p, const int8_t *x, const int8_t *a, const int8_t *b,
                        const int32_t *bias, int8_t *y, void *scratch);
/* bias float (M) or NULL; scratch float[a_first ? m1*k2 : m2*k1]. */
void tinyc_dense_kp_f32(const tinyc_dense_kp_f32_params *p, const float *x, const float *a, const float *b,
                        const float *bias, float *y, void *scratch);
void tinyc_dense_dkp_f32(const tinyc_dense_dkp_f32_params *p, const float *x, const float *a, const float *b,
                         const float *bias, float *y, void *scratch);

#endif /* TINYC_KRONECKER_H */
