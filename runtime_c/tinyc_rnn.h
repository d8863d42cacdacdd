/* tinyc_rnn.h: LSTM and GRU with ONNX semantics (forward direction, batch 1, default
 * activations, no clip, no peepholes), float32 and int8. The int8 scheme (Q3.12 gates, Q0.15
 * hidden state, table sigmoid/tanh) is docs/rnn_int8.md; it mirrors tinyc/ops/rnn.py bit for bit.
 *
 * Layouts (ONNX): x [T, 1, I]; w [G*H, I]; r [G*H, H] (row-major, gate-major rows: LSTM i, o, f, c
 * with G = 4; GRU z, r, h with G = 3); y [T, H]; y_h, y_c, initial_h, initial_c [H].
 * Optional inputs and outputs may be NULL (an absent initial state is zero). */
#ifndef TINYC_RNN_H
#define TINYC_RNN_H

#include "tinyc_common.h"

typedef struct {
    int32_t seq_len;     /* T */
    int32_t input_size;  /* I */
    int32_t hidden_size; /* H */
} tinyc_rnn_dims;

/* An int8 tensor <-> fixed-point state, real multiplier = multiplier * 2^(shift - 31).
 * Into the state (initial_h -> Q0.15, initial_c -> Q16.15): tinyc_requantize(q - zero_point).
 * Out of the state (c -> y_c): tinyc_requantize(c) + zero_point, saturated to int8. */
typedef struct {
    int32_t zero_point;
    int32_t multiplier;
    int32_t shift;
} tinyc_rnn_state_q;

typedef struct {
    tinyc_rnn_dims dims;
} tinyc_lstm_f32_params;

typedef struct {
    tinyc_rnn_dims dims;
    int32_t linear_before_reset; /* 0 or 1, as the ONNX attribute */
} tinyc_gru_f32_params;

typedef struct {
    tinyc_rnn_dims dims;
    int32_t input_zp;                /* zero point of x */
    tinyc_requant_pc input_requant;  /* per gate row: sum w (x - input_zp) -> Q3.12 */
    tinyc_requant_pc hidden_requant; /* per gate row: sum r h (h in Q0.15) -> Q3.12 */
    tinyc_rnn_state_q initial_h;
    tinyc_rnn_state_q initial_c;
    tinyc_rnn_state_q cell_out;      /* c -> y_c */
    const int16_t *sigmoid_table;    /* 257 Q0.15 samples over [-8, 8], step 1/16 */
    const int16_t *tanh_table;
} tinyc_lstm_s8_params;

typedef struct {
    tinyc_rnn_dims dims;
    int32_t linear_before_reset;
    int32_t input_zp;
    tinyc_requant_pc input_requant;
    tinyc_requant_pc hidden_requant;
    tinyc_rnn_state_q initial_h;
    const int16_t *sigmoid_table;
    const int16_t *tanh_table;
} tinyc_gru_s8_params;

/* b [2*4H] = Wb then Rb, or NULL. Scratch: 3*H floats (12 H bytes): c, h, h_next. */
void tinyc_lstm_f32(const tinyc_lstm_f32_params *p, const float *x, const float *w, const float *r,
                    const float *b, const float *initial_h, const float *initial_c,
                    float *y, float *y_h, float *y_c, void *scratch);

/* b [2*3H] = Wb then Rb, or NULL. Scratch: 3*H floats (12 H bytes): z, r*h or n, h. */
void tinyc_gru_f32(const tinyc_gru_f32_params *p, const float *x, const float *w, const float *r,
                   const float *b, const float *initial_h, float *y, float *y_h, void *scratch);

/* w, r int8 symmetric per row; bias [4H] int32 Q3.12 (Wb + Rb). y, y_h int8 at scale 1/128,
 * zero point 0. Needs I <= 66313 and H <= 516 (int32 accumulators).
 * Scratch: 8*H bytes, 4-byte aligned: c (H int32), h and h_next (H int16 each). */
void tinyc_lstm_s8(const tinyc_lstm_s8_params *p, const int8_t *x, const int8_t *w, const int8_t *r,
                   const int32_t *bias, const int8_t *initial_h, const int8_t *initial_c,
                   int8_t *y, int8_t *y_h, int8_t *y_c, void *scratch);

/* bias [4H] int32 Q3.12: rows z, r hold Wb + Rb, rows h hold Wb_h, then H more hold Rb_h.
 * y, y_h int8 at scale 1/128, zero point 0. Needs I <= 66313 and H <= 516.
 * Scratch: 6*H bytes: z, (r*h or n), h (H int16 each). */
void tinyc_gru_s8(const tinyc_gru_s8_params *p, const int8_t *x, const int8_t *w, const int8_t *r,
                  const int32_t *bias, const int8_t *initial_h, int8_t *y, int8_t *y_h, void *scratch);

#endif /* TINYC_RNN_H */
