/* tinyc_elementwise.c: see tinyc_elementwise.h. Portable C99; no scratch, no float in _s8. */
#include <math.h>

#include "tinyc_elementwise.h"

enum binary_op { OP_ADD, OP_SUB, OP_MUL };

/* Element offsets of A and B where output row r starts; a row is one pass of the innermost
 * loop, rows count the three outer loops. The output is written in order, each element after
 * its inputs are read, which keeps y aliasing a same-shape input safe. */
static void row_start(const int32_t *d, const int32_t *sa, const int32_t *sb, int32_t r,
                      int32_t *oa, int32_t *ob)
{
    const int32_t i2 = r % d[2], i1 = (r / d[2]) % d[1], i0 = r / (d[2] * d[1]);
    *oa = i0 * sa[0] + i1 * sa[1] + i2 * sa[2];
    *ob = i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
}

static void binary_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y,
                       enum binary_op op)
{
    const int32_t *d = p->out_dims, n = d[3], sa = p->a_strides[3], sb = p->b_strides[3];
    const int32_t rows = d[0] * d[1] * d[2];
    int32_t r, i, oa, ob;
    for (r = 0; r < rows; ++r) {
        row_start(d, p->a_strides, p->b_strides, r, &oa, &ob);
        for (i = 0; i < n; ++i) {
            const float u = a[oa + i * sa], v = b[ob + i * sb];
            const float z = op == OP_ADD ? u + v : (op == OP_SUB ? u - v : u * v);
            *y++ = tinyc_clamp_f32_value(z, p->clamp);
        }
    }
}

void tinyc_add_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y)
{
    binary_f32(p, a, b, y, OP_ADD);
}

void tinyc_sub_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y)
{
    binary_f32(p, a, b, y, OP_SUB);
}

void tinyc_mul_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y)
{
    binary_f32(p, a, b, y, OP_MUL);
}

/* TFLite's reference int8 add: (x - zp) * 2^left_shift stays below 2^28 for int8 input, so
 * neither the rescaled inputs nor their sum can overflow int32. */
static void add_sub_s8(const tinyc_add_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y,
                       int32_t sign)
{
    const int32_t *d = p->out_dims, n = d[3], sa = p->a_strides[3], sb = p->b_strides[3];
    const int32_t lift = (int32_t)1 << p->left_shift;
    const int32_t rows = d[0] * d[1] * d[2];
    int32_t r, i, oa, ob;
    for (r = 0; r < rows; ++r) {
        row_start(d, p->a_strides, p->b_strides, r, &oa, &ob);
        for (i = 0; i < n; ++i) {
            const int32_t u = tinyc_requantize((a[oa + i * sa] - p->a_zp) * lift, p->a_multiplier, p->a_shift);
            const int32_t v = tinyc_requantize((b[ob + i * sb] - p->b_zp) * lift, p->b_multiplier, p->b_shift);
            *y++ = tinyc_requantize_s8(u + sign * v, p->output_multiplier, p->output_shift,
                                       p->output_zp, p->clamp);
        }
    }
}

void tinyc_add_s8(const tinyc_add_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y)
{
    add_sub_s8(p, a, b, y, 1);
}

void tinyc_sub_s8(const tinyc_add_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y)
{
    add_sub_s8(p, a, b, y, -1);
}

void tinyc_mul_s8(const tinyc_mul_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y)
{
    const int32_t *d = p->out_dims, n = d[3], sa = p->a_strides[3], sb = p->b_strides[3];
    const int32_t rows = d[0] * d[1] * d[2];
    int32_t r, i, oa, ob;
    for (r = 0; r < rows; ++r) {
        row_start(d, p->a_strides, p->b_strides, r, &oa, &ob);
        for (i = 0; i < n; ++i) {
            const int32_t acc = (a[oa + i * sa] - p->a_zp) * (b[ob + i * sb] - p->b_zp); /* |acc| <= 255^2 */
            *y++ = tinyc_requantize_s8(acc, p->output_multiplier, p->output_shift, p->output_zp, p->clamp);
        }
    }
}

void tinyc_lut_s8(const tinyc_lut_s8_params *p, const int8_t *x, int8_t *y)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        y[i] = p->table[x[i] + 128];
    }
}

static float clamp01(float v)
{
    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

/* One switch per call, a plain loop per function. */
void tinyc_unary_f32(const tinyc_unary_f32_params *p, const float *x, float *y)
{
    const int32_t n = p->size;
    int32_t i;
    switch (p->fn) {
    case TINYC_UNARY_RELU:
        for (i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    case TINYC_UNARY_CLIP:
        for (i = 0; i < n; ++i) y[i] = x[i] < p->min ? p->min : (x[i] > p->max ? p->max : x[i]);
        break;
    case TINYC_UNARY_LEAKY_RELU:
        for (i = 0; i < n; ++i) y[i] = x[i] >= 0.0f ? x[i] : p->alpha * x[i];
        break;
    case TINYC_UNARY_SIGMOID:
        for (i = 0; i < n; ++i) y[i] = 1.0f / (1.0f + expf(-x[i]));
        break;
    case TINYC_UNARY_TANH:
        for (i = 0; i < n; ++i) y[i] = tanhf(x[i]);
        break;
    case TINYC_UNARY_HARD_SIGMOID:
        for (i = 0; i < n; ++i) y[i] = clamp01(p->alpha * x[i] + p->beta);
        break;
    case TINYC_UNARY_HARD_SWISH:
        for (i = 0; i < n; ++i) y[i] = x[i] * clamp01(p->alpha * x[i] + p->beta);
        break;
    default:
        TINYC_ASSERT(0);
        break;
    }
}

void tinyc_prelu_f32(const tinyc_prelu_f32_params *p, const float *x, const float *slope, float *y)
{
    int32_t o, c, i;
    for (o = 0; o < p->outer; ++o) {
        for (c = 0; c < p->channels; ++c) {
            const float s = slope[c];
            for (i = 0; i < p->inner; ++i, ++x, ++y) {
                *y = *x >= 0.0f ? *x : s * *x;
            }
        }
    }
}

void tinyc_prelu_s8(const tinyc_prelu_s8_params *p, const int8_t *x, int8_t *y)
{
    const tinyc_clamp full = {-128, 127};
    int32_t o, c, i;
    for (o = 0; o < p->outer; ++o) {
        for (c = 0; c < p->channels; ++c) {
            const int32_t nm = p->negative_multiplier[c], ns = p->negative_shift[c];
            for (i = 0; i < p->inner; ++i, ++x, ++y) {
                const int32_t v = *x - p->input_zp;
                *y = v >= 0 ? tinyc_requantize_s8(v, p->positive_multiplier, p->positive_shift, p->output_zp, full)
                            : tinyc_requantize_s8(v, nm, ns, p->output_zp, full);
            }
        }
    }
}
