/* tinyc_rnn.h: RNN, LSTM and GRU with ONNX semantics. float32: any direction (forward, reverse,
 * bidirectional), batch, clip, activation functions, LSTM peepholes and input_forget. int8 (LSTM, GRU):
 * any direction and batch, default activations, no clip, no peepholes; its scheme (Q3.12 gates,
 * Q0.15 hidden state, table sigmoid/tanh) is docs/rnn_int8.md and mirrors tinyc/ops/rnn.py bit for bit.
 *
 * Layouts (ONNX, layout 0), D directions, B batch: x [T, B, I]; w [D, G*H, I]; r [D, G*H, H] (row-major,
 * gate-major rows: RNN one gate, G = 1; LSTM i, o, f, c with G = 4; GRU z, r, h with G = 3);
 * b [D, 2*G*H] (Wb then Rb); initial_h, initial_c [D, B, H]; peepholes [D, 3*H] (i, o, f);
 * y [T, D, B, H]; y_h, y_c [D, B, H].
 * Optional inputs and outputs may be NULL (an absent initial state is zero). The int8 cells take W and R
 * in params, in the order they compute the gate rows (docs/rnn_int8.md, "Weight order"). */
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

/* ONNX activation functions (act[k], with act_alpha[k] and act_beta[k] where the function takes them). */
enum {
    TINYC_RNN_ACT_SIGMOID = 0, TINYC_RNN_ACT_TANH = 1, TINYC_RNN_ACT_RELU = 2, TINYC_RNN_ACT_AFFINE = 3,
    TINYC_RNN_ACT_LEAKY_RELU = 4, TINYC_RNN_ACT_THRESHOLDED_RELU = 5, TINYC_RNN_ACT_SCALED_TANH = 6,
    TINYC_RNN_ACT_HARD_SIGMOID = 7, TINYC_RNN_ACT_ELU = 8, TINYC_RNN_ACT_SOFTSIGN = 9, TINYC_RNN_ACT_SOFTPLUS = 10
};

/* float32, shared by the three cells. A direction runs backwards when it is direction 1 of two, or reverse. */
typedef struct {
    tinyc_rnn_dims dims;
    int32_t batch;               /* B */
    int32_t directions;          /* D: 1 or 2 (bidirectional) */
    int32_t reverse;             /* D = 1: 1 runs t = T-1 .. 0 */
    int32_t linear_before_reset; /* GRU: 0 or 1, as the ONNX attribute */
    int32_t input_forget;        /* LSTM: 1 couples f = 1 - i */
    float clip;                  /* gate pre-activations are clipped to [-clip, clip] (FLT_MAX: none) */
    const int32_t *act;          /* D * F functions (RNN f; GRU f, g; LSTM f, g, h), direction 0 first */
    const float *act_alpha;
    const float *act_beta;
} tinyc_rnn_f32_params;

/* int8: as float32, a direction runs backwards when it is direction 1 of two, or reverse. Per-row
 * arrays (requantizations) hold D*G*H entries, the bias D*4*H, direction 0 first. */
typedef struct {
    tinyc_rnn_dims dims;
    int32_t batch;                   /* B */
    int32_t directions;              /* D: 1 or 2 (bidirectional) */
    int32_t reverse;                 /* D = 1: 1 runs t = T-1 .. 0 */
    int32_t input_zp;                /* zero point of x */
    tinyc_requant_pc input_requant;  /* per gate row: sum w (x - input_zp) -> Q3.12 */
    tinyc_requant_pc hidden_requant; /* per gate row: sum r h (h in Q0.15) -> Q3.12 */
    const int32_t *w;                /* W and R, int8 symmetric per row, packed (tinyc_rnn.c; docs/rnn_int8.md) */
    const int32_t *r;
    tinyc_rnn_state_q initial_h;
    tinyc_rnn_state_q initial_c;
    tinyc_rnn_state_q cell_out;      /* c -> y_c */
    const int16_t *sigmoid_table;    /* 257 Q0.15 samples over [-8, 8], step 1/16 */
    const int16_t *tanh_table;
} tinyc_lstm_s8_params;

typedef struct {
    tinyc_rnn_dims dims;
    int32_t batch;
    int32_t directions;
    int32_t reverse;
    int32_t linear_before_reset;
    int32_t input_zp;
    tinyc_requant_pc input_requant;
    tinyc_requant_pc hidden_requant;
    const int32_t *w; /* packed, as tinyc_lstm_s8_params */
    const int32_t *r;
    tinyc_rnn_state_q initial_h;
    const int16_t *sigmoid_table;
    const int16_t *tanh_table;
} tinyc_gru_s8_params;

/* Scratch: 2*H floats (8 H bytes): h, h_next. */
void tinyc_rnn_f32(const tinyc_rnn_f32_params *p, const float *x, const float *w, const float *r,
                   const float *b, const float *initial_h, float *y, float *y_h, void *scratch);

/* Scratch: 3*H floats (12 H bytes): c, h, h_next. */
void tinyc_lstm_f32(const tinyc_rnn_f32_params *p, const float *x, const float *w, const float *r,
                    const float *b, const float *initial_h, const float *initial_c, const float *peepholes,
                    float *y, float *y_h, float *y_c, void *scratch);

/* Scratch: 3*H floats (12 H bytes): z, r*h or n, h. */
void tinyc_gru_f32(const tinyc_rnn_f32_params *p, const float *x, const float *w, const float *r,
                   const float *b, const float *initial_h, float *y, float *y_h, void *scratch);

/* Weights in params (packed); bias [D*4H] int32 Q3.12 (Wb + Rb). y, y_h int8 at scale 1/128,
 * zero point 0. Needs I <= 66313 and H <= 516 (int32 accumulators).
 * Scratch: 8*H bytes (+4 when H is odd), 4-byte aligned: c (H int32), h and h_next (H int16 each, each
 * starting on a word).
 * DSP: 4 gate rows a pass, SXTB16 + SMLAD; MVE: VMLADAVA over 8 lanes; same bits as the portable C. */
void tinyc_lstm_s8(const tinyc_lstm_s8_params *p, const int8_t *x, const int32_t *bias, const int8_t *initial_h,
                   const int8_t *initial_c, int8_t *y, int8_t *y_h, int8_t *y_c, void *scratch);

/* bias [D*4H] int32 Q3.12, per direction: rows z, r hold Wb + Rb, rows h hold Wb_h, then H more hold Rb_h.
 * y, y_h int8 at scale 1/128, zero point 0. Needs I <= 66313 and H <= 516.
 * Scratch: 6*H bytes (+4 when H is odd), 4-byte aligned: (r*h or n), h, z (H int16 each, the first two
 * starting on a word). */
void tinyc_gru_s8(const tinyc_gru_s8_params *p, const int8_t *x, const int32_t *bias, const int8_t *initial_h,
                  int8_t *y, int8_t *y_h, void *scratch);

/* TFLM's integer LSTM (an int8 .tflite's UNIDIRECTIONAL_SEQUENCE_LSTM; tensorflow/lite/micro/kernels/lstm_eval.cc),
 * bit for bit: int8 x and h, int16 gates and cell state, int32 accumulators. Per-gate arrays are [4]
 * in the order i, o, f, c. Real multiplier = multiplier * 2^(shift - 31). Every batch row starts from
 * h = hidden_zp, c = 0. Mirrors tflm_lstm_ref in tinyc/ops/rnn.py. */
typedef struct {
    tinyc_rnn_dims dims;
    int32_t batch;                     /* B */
    int32_t input_zp;                  /* zero point of x */
    int32_t hidden_zp;                 /* zero point of h (and y) */
    const int32_t *input_multiplier;   /* per gate: sum w (x - input_zp) + bias -> Q3.12 */
    const int32_t *input_shift;
    const int32_t *hidden_multiplier;  /* per gate: sum r (h - hidden_zp) -> Q3.12 */
    const int32_t *hidden_shift;
    int32_t forget_cell_multiplier;    /* f (Q0.15) x c -> c */
    int32_t forget_cell_shift;
    int32_t input_cell_multiplier;     /* i x g (Q0.15 each) -> c */
    int32_t input_cell_shift;
    int32_t output_multiplier;         /* o x tanh(c) (Q0.15 each) -> h */
    int32_t output_shift;
    int32_t cell_tanh_multiplier;      /* TFLM's Tanh(input_multiplier, input_left_shift) of c */
    int32_t cell_tanh_shift;
    int32_t cell_gate_sigmoid;         /* 1: g = sigmoid (fused SIGMOID), 0: tanh */
    int32_t cell_clip;                 /* c clipped to [-cell_clip, cell_clip] when > 0 */
} tinyc_lstm_tflm_s8_params;

/* x [T, B, I]; w [4H, I], r [4H, H] int8 (zero point 0); bias [4H] int32; y [T, B, H].
 * Scratch: 11*H bytes, 2-byte aligned: c and gates i, o, f, g (H int16 each), h (H int8). */
void tinyc_lstm_tflm_s8(const tinyc_lstm_tflm_s8_params *p, const int8_t *x, const int8_t *w, const int8_t *r,
                        const int32_t *bias, int8_t *y, void *scratch);

#endif /* TINYC_RNN_H */
