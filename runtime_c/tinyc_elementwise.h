/* tinyc_elementwise.h: add, sub, mul, div, pow, max, min, where with broadcasting; unary functions; prelu.
 * int8 follows TensorFlow Lite's reference add/sub/mul/prelu; int8 unary functions are
 * 256-entry tables built by the compiler (tinyc/ops/unary.py). No kernel needs scratch.
 * Every kernel reads element i before writing element i, so y may alias an input of y's shape. */
#ifndef TINYC_ELEMENTWISE_H
#define TINYC_ELEMENTWISE_H

#include "tinyc_common.h"

/* Broadcast geometry, 4 loops outermost first (size-1 and mergeable dims folded away by
 * the compiler): out_dims[4] sizes; a_strides[4], b_strides[4] element strides of A and B
 * for each loop, 0 where that input is broadcast. y is dense in out_dims order. */

typedef struct {
    const int32_t *out_dims;
    const int32_t *a_strides;
    const int32_t *b_strides;
    tinyc_clamp_f32 clamp; /* fused activation, +-FLT_MAX when none */
} tinyc_binary_f32_params;

/* int8 add and sub (TFLite): each input (x - zp) << left_shift is rescaled to twice the
 * larger input scale, summed (or subtracted), rescaled to the output, plus output_zp, clamped. */
typedef struct {
    const int32_t *out_dims;
    const int32_t *a_strides;
    const int32_t *b_strides;
    int32_t a_zp, b_zp;
    int32_t left_shift;
    int32_t a_multiplier, a_shift;
    int32_t b_multiplier, b_shift;
    int32_t output_multiplier, output_shift;
    int32_t output_zp;
    tinyc_clamp clamp; /* fused activation within [-128, 127] */
} tinyc_add_s8_params;

/* int8 mul (TFLite): (a - a_zp) * (b - b_zp) requantized by s_a * s_b / s_out. */
typedef struct {
    const int32_t *out_dims;
    const int32_t *a_strides;
    const int32_t *b_strides;
    int32_t a_zp, b_zp;
    int32_t output_multiplier, output_shift;
    int32_t output_zp;
    tinyc_clamp clamp;
} tinyc_mul_s8_params;

void tinyc_add_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y);
void tinyc_sub_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y);
void tinyc_mul_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y);
/* y = a / b, powf(a, b), max(a, b), min(a, b) (NaN if either input is NaN, as numpy). */
void tinyc_div_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y);
void tinyc_pow_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y);
void tinyc_max_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y);
void tinyc_min_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y);

/* y = cond ? a : b, cond an int8 0/1 array; the same 4-loop geometry with a third stride set. */
typedef struct {
    const int32_t *out_dims;
    const int32_t *c_strides;
    const int32_t *a_strides;
    const int32_t *b_strides;
} tinyc_where_f32_params;

void tinyc_where_f32(const tinyc_where_f32_params *p, const int8_t *cond, const float *a, const float *b, float *y);

void tinyc_add_s8(const tinyc_add_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y);
void tinyc_sub_s8(const tinyc_add_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y);
void tinyc_mul_s8(const tinyc_mul_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y);

/* int8 div of two activations: q = ((a - a_zp) << 20) / (b - b_zp) rounded half away from zero,
 * y = requantize(q) + output_zp (real multiplier s_a / (s_b s_out) 2^-20). A zero divisor gives 127,
 * -128 (+-inf saturated), or output_zp for 0 / 0 (NaN's stand-in 0.0). */
void tinyc_div_s8(const tinyc_mul_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y);

/* int8 max and min: each input goes onto y's parameters by its table (256 entries, indexed by
 * x + 128), then the larger (smaller) is taken: the quantized float max (min), exactly. */
typedef struct {
    const int32_t *out_dims;
    const int32_t *a_strides;
    const int32_t *b_strides;
    const int8_t *a_table;
    const int8_t *b_table;
} tinyc_select_s8_params;

void tinyc_max_s8(const tinyc_select_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y);
void tinyc_min_s8(const tinyc_select_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y);

/* int8 where: y = cond ? a_table[a + 128] : b_table[b + 128]. */
typedef struct {
    const int32_t *out_dims;
    const int32_t *c_strides;
    const int32_t *a_strides;
    const int32_t *b_strides;
    const int8_t *a_table;
    const int8_t *b_table;
} tinyc_where_s8_params;

void tinyc_where_s8(const tinyc_where_s8_params *p, const int8_t *cond, const int8_t *a, const int8_t *b, int8_t *y);

/* int8 function of one input: y[i] = table[x[i] + 128], size elements, any layout. */
typedef struct {
    int32_t size;
    const int8_t *table; /* 256 entries, indexed by x + 128 */
} tinyc_lut_s8_params;

void tinyc_lut_s8(const tinyc_lut_s8_params *p, const int8_t *x, int8_t *y);

/* float function of one input, same order as tinyc/ops/unary.py FUNCTIONS (alpha and beta are
 * the function's ONNX attributes in the order given there; NaN and inf follow C's libm). */
enum tinyc_unary_fn {
    TINYC_UNARY_RELU,
    TINYC_UNARY_CLIP,         /* min <= y <= max */
    TINYC_UNARY_LEAKY_RELU,   /* alpha * x below 0 */
    TINYC_UNARY_SIGMOID,
    TINYC_UNARY_TANH,
    TINYC_UNARY_HARD_SIGMOID, /* clamp(alpha * x + beta, 0, 1) */
    TINYC_UNARY_HARD_SWISH,   /* x * clamp(alpha * x + beta, 0, 1) */
    TINYC_UNARY_ABS,
    TINYC_UNARY_NEG,
    TINYC_UNARY_CEIL,
    TINYC_UNARY_FLOOR,
    TINYC_UNARY_ROUND,        /* half to even (rintf in the default rounding mode) */
    TINYC_UNARY_SIGN,
    TINYC_UNARY_EXP,
    TINYC_UNARY_LOG,
    TINYC_UNARY_SQRT,
    TINYC_UNARY_RECIPROCAL,
    TINYC_UNARY_SIN,
    TINYC_UNARY_COS,
    TINYC_UNARY_ERF,
    TINYC_UNARY_GELU,         /* x/2 (1 + erf(x / sqrt 2)) */
    TINYC_UNARY_GELU_TANH,    /* x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
    TINYC_UNARY_SOFTPLUS,     /* log(1 + exp(x)) */
    TINYC_UNARY_SOFTSIGN,     /* x / (1 + |x|) */
    TINYC_UNARY_MISH,         /* x tanh(softplus(x)) */
    TINYC_UNARY_SWISH,        /* x sigmoid(alpha x) */
    TINYC_UNARY_ELU,          /* alpha (exp(x) - 1) below 0 */
    TINYC_UNARY_SELU,         /* beta (= gamma) * (x > 0 ? x : alpha (exp(x) - 1)) */
    TINYC_UNARY_CELU,         /* max(0, x) + min(0, alpha (exp(x / alpha) - 1)) */
    TINYC_UNARY_THRESHOLDED_RELU, /* x > alpha ? x : 0 */
    TINYC_UNARY_SHRINK        /* x < -alpha ? x + beta : (x > alpha ? x - beta : 0); alpha = lambd, beta = bias */
};

typedef struct {
    int32_t size;
    int32_t fn; /* enum tinyc_unary_fn */
    float alpha, beta;
    float min, max;
} tinyc_unary_f32_params;

/* tinyc_unary_f32 computes relu .. hard_swish, abs, neg, sign, reciprocal, softsign, thresholded_relu and
 * shrink; tinyc_unary_math_f32 the others (they need more of libm). Same params, same enum. */
void tinyc_unary_f32(const tinyc_unary_f32_params *p, const float *x, float *y);
void tinyc_unary_math_f32(const tinyc_unary_f32_params *p, const float *x, float *y);

/* int8 prelu (TFLite): v = x - input_zp; v >= 0 requantized by s_in/s_out, else by
 * slope[c] * s_in/s_out per channel (a negative slope gives a negative multiplier). */
typedef struct {
    int32_t outer, channels, inner;
    int32_t input_zp;
    int32_t positive_multiplier, positive_shift;
    const int32_t *negative_multiplier; /* [channels] */
    const int32_t *negative_shift;      /* [channels] */
    int32_t output_zp;
} tinyc_prelu_s8_params;

/* float prelu: y = x >= 0 ? x : slope * x, slope broadcast to x in the binary geometry (a = x, b = slope). */
void tinyc_prelu_f32(const tinyc_binary_f32_params *p, const float *x, const float *slope, float *y);
void tinyc_prelu_s8(const tinyc_prelu_s8_params *p, const int8_t *x, int8_t *y);

#endif /* TINYC_ELEMENTWISE_H */
