/* tinyc_rnn_kp.h: a GRU (ONNX semantics, one direction, default activations) whose input and recurrent
 * matrices are Kronecker products, W = WA (x) WB [3H, I] and R = RA (x) RB [3H, H] (np.kron layout),
 * never formed. int8 mirrors tinyc/ops/rnn_kp.py bit for bit (scheme: docs/rnn_int8.md, section
 * "Kronecker-factored GRU"); float32 within rounding of it.
 *
 * Layouts: x [T, B, I]; factors row-major, A with a multiple of 3 rows (gate g = rows [g m1/3, (g+1) m1/3)
 * of A, (x) B); b [6H] (Wb then Rb) or NULL; y [T, 1, B, H], y_h [1, B, H] (either may be NULL).
 * Each product runs A first: T = A V (m1 x k2), V the k1 x k2 view of the vector, then T B^T. */
#ifndef TINYC_RNN_KP_H
#define TINYC_RNN_KP_H

#include "tinyc_rnn.h"

typedef struct {
    int32_t rows, cols;
} tinyc_kp_factor;

typedef struct {
    int32_t multiplier, shift; /* real = multiplier * 2^(shift - 31) */
} tinyc_kp_stage;

typedef struct {
    tinyc_rnn_dims dims;
    int32_t batch;               /* B */
    int32_t reverse;             /* 1: t runs T-1 .. 0 */
    int32_t linear_before_reset; /* 0 or 1, as the ONNX attribute */
    tinyc_kp_factor wa, wb, ra, rb;
} tinyc_gru_kp_f32_params;

typedef struct {
    tinyc_rnn_dims dims;
    int32_t batch;
    int32_t reverse;
    int32_t linear_before_reset;
    tinyc_kp_factor wa, wb, ra, rb;
    int32_t input_zp;
    tinyc_kp_stage w_stage;     /* int32 T = WA (x - input_zp) -> int16, never saturates */
    tinyc_requant_pc w_requant; /* per row of WA: T16 . WB -> Q3.12 */
    tinyc_kp_stage r_stage;     /* int32 T = RA h (Q0.15) -> int16 */
    tinyc_requant_pc r_requant; /* per row of RA */
    const int16_t *sigmoid_table; /* 257 Q0.15 samples over [-8, 8], step 1/16 */
    const int16_t *tanh_table;
} tinyc_gru_kp_s8_params;

/* Scratch: 9*H + max(m1 k2 of W, of R) floats: h, z, r*h or n, W x (3H), R h (3H), T. */
void tinyc_gru_kp_f32(const tinyc_gru_kp_f32_params *p, const float *x, const float *wa, const float *wb,
                      const float *ra, const float *rb, const float *b, float *y, float *y_h, void *scratch);

/* Factors int8 in [-127, 127]; bias [4H] int32 Q3.12 as tinyc_gru_s8's (z, r: Wb + Rb; h: Wb_h; then Rb_h).
 * y, y_h int8 at scale 1/128, zero point 0.
 * Scratch, 4-byte aligned: 24*H + 2*(3*H + max(m1 k2 of W, of R) + max(I, H)) bytes. */
void tinyc_gru_kp_s8(const tinyc_gru_kp_s8_params *p, const int8_t *x, const int8_t *wa, const int8_t *wb,
                     const int8_t *ra, const int8_t *rb, const int32_t *bias, int8_t *y, int8_t *y_h, void *scratch);

#endif /* TINYC_RNN_KP_H */
