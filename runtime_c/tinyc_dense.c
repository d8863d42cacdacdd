/* tinyc_dense.c: dense and matmul kernels, portable C99, no scratch. */
#include "tinyc_dense.h"

/* bias + acc saturated to int32: a bias clipped to INT32_MAX (a channel with a tiny weight
 * scale) must not wrap; mirrors the np.clip in ref_int8. */
/* Scratch: 0. The zero point is subtracted per element: the same cost as folding
 * input_zp * sum(w) into the bias, and no extra constant. */
void tinyc_dense_s8(const tinyc_dense_s8_params *p, const int8_t *x, const int8_t *w,
                    const int32_t *bias, int8_t *y)
{
    const int32_t k_len = p->in_features, m_len = p->out_features, input_zp = p->input_zp;
    int32_t r, m, k;

    for (r = 0; r < p->rows; r++) {
        const int8_t *xr = x + (size_t)r * k_len;
        int8_t *yr = y + (size_t)r * m_len;
        for (m = 0; m < m_len; m++) {
            const int8_t *wm = w + (size_t)m * k_len;
            int32_t acc = 0;
            for (k = 0; k < k_len; k++) {
                acc += ((int32_t)xr[k] - input_zp) * wm[k];
            }
            acc = tinyc_add_bias_sat(acc, bias, m);
            yr[m] = tinyc_requantize_s8(acc, p->requant.multiplier[m], p->requant.shift[m],
                                        p->output_zp, p->clamp);
        }
    }
}

/* Scratch: 0. */
void tinyc_dense_f32(const tinyc_dense_f32_params *p, const float *x, const float *w,
                     const float *bias, float *y)
{
    const int32_t k_len = p->in_features, m_len = p->out_features;
    int32_t r, m, k;

    for (r = 0; r < p->rows; r++) {
        const float *xr = x + (size_t)r * k_len;
        float *yr = y + (size_t)r * m_len;
        for (m = 0; m < m_len; m++) {
            const float *wm = w + (size_t)m * k_len;
            float acc = bias ? bias[m] : 0.0f;
            for (k = 0; k < k_len; k++) {
                acc += xr[k] * wm[k];
            }
            yr[m] = tinyc_clamp_f32_value(acc, p->clamp);
        }
    }
}

/* Scratch: 0. b is read down its columns (stride N). */
void tinyc_matmul_s8(const tinyc_matmul_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y)
{
    const tinyc_matmul_shape *s = &p->shape;
    const int32_t a_zp = p->a_zp, b_zp = p->b_zp;
    int32_t i0, i1, i, j, k;

    for (i0 = 0; i0 < s->outer0; i0++) {
        for (i1 = 0; i1 < s->outer1; i1++) {
            const int8_t *am = a + (size_t)i0 * s->a_stride0 + (size_t)i1 * s->a_stride1;
            const int8_t *bm = b + (size_t)i0 * s->b_stride0 + (size_t)i1 * s->b_stride1;
            for (i = 0; i < s->m; i++) {
                const int8_t *ar = am + (size_t)i * s->k;
                for (j = 0; j < s->n; j++) {
                    int32_t acc = 0;
                    for (k = 0; k < s->k; k++) {
                        acc += ((int32_t)ar[k] - a_zp) * ((int32_t)bm[(size_t)k * s->n + j] - b_zp);
                    }
                    *y++ = tinyc_requantize_s8(acc, p->multiplier, p->shift, p->output_zp, p->clamp);
                }
            }
        }
    }
}

/* Scratch: 0. */
void tinyc_matmul_f32(const tinyc_matmul_f32_params *p, const float *a, const float *b, float *y)
{
    const tinyc_matmul_shape *s = &p->shape;
    int32_t i0, i1, i, j, k;

    for (i0 = 0; i0 < s->outer0; i0++) {
        for (i1 = 0; i1 < s->outer1; i1++) {
            const float *am = a + (size_t)i0 * s->a_stride0 + (size_t)i1 * s->a_stride1;
            const float *bm = b + (size_t)i0 * s->b_stride0 + (size_t)i1 * s->b_stride1;
            for (i = 0; i < s->m; i++) {
                const float *ar = am + (size_t)i * s->k;
                for (j = 0; j < s->n; j++) {
                    float acc = 0.0f;
                    for (k = 0; k < s->k; k++) {
                        acc += ar[k] * bm[(size_t)k * s->n + j];
                    }
                    *y++ = tinyc_clamp_f32_value(acc, p->clamp);
                }
            }
        }
    }
}
