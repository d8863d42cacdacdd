/* tinyc_sparse.h: dense (fully connected) layers with compressed int8 weights, CSR or N:M, and the
 * encodings, tinyc/sparse.py's, over the weight matrix [rows = output channels, reduction]: a dense
 * layer's W (M, K) as is, a conv's W (Co, Ci/groups, KH, KW) flattened so that column =
 * (ci * KH + ky) * KW + kx (the conv kernels: tinyc_sparse_conv.h). Results equal the dense kernel
 * (tinyc_dense_s8) bit for bit: a missing weight is a zero weight. Scratch: only tinyc_dense_nm_table_s8. */
#ifndef TINYC_SPARSE_H
#define TINYC_SPARSE_H

#include "tinyc_conv_common.h"

/* CSR: values[row_ptr[r] .. row_ptr[r + 1]) are row r's nonzeros, cols their columns. The index
 * arrays use the narrowest unsigned type that fits: exactly one cols_* and one row_ptr_* is set. */
typedef struct {
    const int8_t *values;  /* in [-127, 127] */
    const uint8_t *cols_u8;
    const uint16_t *cols_u16;
    const uint8_t *row_ptr_u8;
    const uint16_t *row_ptr_u16;
    const uint32_t *row_ptr_u32;
} tinyc_csr_s8;

/* N:M: each row is (reduction / m) groups of m columns; a group keeps exactly n (value, position)
 * pairs (padding pairs have value 0), values row-major. positions packs each pair's position
 * within its group in bits = 1 (m = 2), 2 (m <= 4) or 4 (m <= 16) bits, least significant first;
 * every row starts on a byte boundary (row bytes = ceil(groups * n * bits / 8)). */
typedef struct {
    const int8_t *values;
    const uint8_t *positions;
    int32_t n, m;  /* 1 <= n < m <= 16 */
} tinyc_nm_s8;

/* Dense layer, as tinyc_dense_s8_params plus the weights:
 * y[r][o] = clamp(requantize(sat32(bias[o] + sum_k (x[r][k] - input_zp) * w[o][k])) + output_zp). */
typedef struct {
    int32_t rows, in_features, out_features;
    int32_t input_zp;   /* in [-128, 127] */
    int32_t output_zp;  /* in [-128, 127] */
    tinyc_requant_pc requant;  /* one per output feature */
    tinyc_clamp clamp;
    tinyc_csr_s8 weights;
    const int32_t *bias_folded;  /* (M) or NULL: as tinyc_dense_s8_params.bias_folded (the bias argument is then NULL) */
} tinyc_dense_csr_s8_params;

typedef struct {
    int32_t rows, in_features, out_features;
    int32_t input_zp;
    int32_t output_zp;
    tinyc_requant_pc requant;
    tinyc_clamp clamp;
    tinyc_nm_s8 weights;
    const int32_t *bias_folded;  /* (M) or NULL: as tinyc_dense_s8_params.bias_folded (the bias argument is then NULL) */
} tinyc_dense_nm_s8_params;

/* x (rows, K) int8, bias int32 (M) or NULL, y (rows, M) int8. Exact for K < 66000. Scratch: 0.
 * The zero point leaves the inner loop: sum x * v plus bias_folded[m] when set, else minus input_zp * (the
 * row's sum of values) plus the bias, saturated. With TINYC_HAS_DSP 4 entries per step (SXTB16 + SMLAxy). */
void tinyc_dense_csr_s8(const tinyc_dense_csr_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y);
void tinyc_dense_nm_s8(const tinyc_dense_nm_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y);
/* 1:4 or 2:4 weights reordered by the compiler, through a table of input pairs in scratch (1:4: 512 *
 * ceil((K / 16) / 4) bytes, K / 16 rounded down; 2:4: 256 * (K / 32)); tinyc_sparse.c describes both. */
void tinyc_dense_nm_table_s8(const tinyc_dense_nm_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y,
                             void *scratch);

#endif /* TINYC_SPARSE_H */
