/* tinyc_kronecker.c: Kronecker-factored dense kernels (kp) and their doped form (dkp, with a CSR
 * residual), portable C99. One static body per type serves both: the plain kernel passes no residual. */
#include "tinyc_kronecker.h"

/* Element i of an index array stored as uint8_t, uint16_t or uint32_t (bytes = 1, 2, 4). */
static int32_t kp_index(const void *array, int32_t bytes, int32_t i)
{
    if (bytes == 1) return ((const uint8_t *)array)[i];
    if (bytes == 2) return ((const uint16_t *)array)[i];
    return (int32_t)((const uint32_t *)array)[i];
}

/* Row m of an int8 CSR residual times the vector x (feature stride fs) less input_zp. The column
 * width is tested once per row, not per value. */
static int32_t kp_csr_row_s8(const tinyc_kp_csr_s8 *res, int32_t m, const int8_t *x, size_t fs, int32_t zp)
{
    const int32_t end = kp_index(res->row_ptr, res->row_ptr_bytes, m + 1);
    int32_t n = kp_index(res->row_ptr, res->row_ptr_bytes, m), acc = 0;

    if (res->col_bytes == 1) {
        const uint8_t *cols = (const uint8_t *)res->cols;
        for (; n < end; n++) acc += res->values[n] * ((int32_t)x[cols[n] * fs] - zp);
    } else {
        for (; n < end; n++) {
            acc += res->values[n] * ((int32_t)x[(size_t)kp_index(res->cols, res->col_bytes, n) * fs] - zp);
        }
    }
    return acc;
}

static float kp_csr_row_f32(const tinyc_kp_csr_f32 *res, int32_t m, const float *x, size_t fs)
{
    const int32_t end = kp_index(res->row_ptr, res->row_ptr_bytes, m + 1);
    int32_t n = kp_index(res->row_ptr, res->row_ptr_bytes, m);
    float acc = 0.0f;

    for (; n < end; n++) acc += res->values[n] * x[(size_t)kp_index(res->cols, res->col_bytes, n) * fs];
    return acc;
}

static int16_t kp_sat16(int32_t v)
{
    return (int16_t)tinyc_clamp_i32(v, -32768, 32767);
}

/* sum a[l] * t[l] over n (int8 times int16). With Helium 8 lanes a step (VMLADAV, the last n % 8 predicated). */
static int32_t kp_dot_s8_s16(const int8_t *a, const int16_t *t, int32_t n)
{
    int32_t acc = 0, l = 0;
#if TINYC_HAS_MVE
    for (; l + 8 <= n; l += 8) {
        acc = vmladavaq_s16(acc, vldrbq_s16(a + l), vldrhq_s16(t + l));
    }
    if (l > 0 && l < n) {  /* a short factor row stays scalar: the vector set-up would not pay */
        const mve_pred16_t pred = vctp16q((uint32_t)(n - l));
        acc = vmladavaq_p_s16(acc, vldrbq_z_s16(a + l, pred), vldrhq_z_s16(t + l, pred), pred);
        l = n;
    }
#endif
    for (; l < n; l++) acc += a[l] * t[l];
    return acc;
}

/* sum w[l] * (x[l * xs] - zp) over n, |x - zp| <= 255 (int16 lanes). With Helium 8 lanes a step: x loaded
 * plainly (xs = 1) or gathered (VLDRB gather at l * xs, kept below 2^16); the last n % 8 scalar. */
static int32_t kp_dot_x(const int8_t *w, const int8_t *x, size_t xs, int32_t n, int32_t zp)
{
    int32_t acc = 0, l = 0;
#if TINYC_HAS_MVE
    if (n >= 8 && xs == 1) {
        for (; l + 8 <= n; l += 8) {
            acc = vmladavaq_s16(acc, vldrbq_s16(w + l), vsubq_n_s16(vldrbq_s16(x + l), (int16_t)zp));
        }
    } else if (n >= 8 && (size_t)n * xs <= 65536u) {
        const uint16x8_t at = vmulq_n_u16(vidupq_n_u16(0, 1), (uint16_t)xs);
        for (; l + 8 <= n; l += 8) {
            const int16x8_t xv = vldrbq_gather_offset_s16(x + (size_t)l * xs, at);
            acc = vmladavaq_s16(acc, vldrbq_s16(w + l), vsubq_n_s16(xv, (int16_t)zp));
        }
    }
#endif
    for (; l < n; l++) acc += w[l] * ((int32_t)x[(size_t)l * xs] - zp);
    return acc;
}

/* Stage 1 for one vector x: A-first T[i1][j2] = sum_j1 A[i1][j1] X[j1][j2], else
 * T[i2][j1] = sum_j2 B[i2][j2] X[j1][j2]; with X[j1][j2] = x[(j1*k2 + j2) * feature stride] - input_zp. */
static void kp_stage1_s8(const tinyc_dense_kp_s8_params *p, const int8_t *x, const int8_t *a, const int8_t *b,
                         int16_t *t)
{
    const tinyc_kp_shape *s = &p->shape;
    const size_t fs = (size_t)s->in_feature_stride;
    const int32_t zp = p->input_zp;
    int32_t i, j;

    if (p->a_first) {
        for (i = 0; i < s->m1; i++) {
            const int8_t *ai = a + (size_t)i * s->k1;
            for (j = 0; j < s->k2; j++) {
                const int32_t acc = kp_dot_x(ai, x + (size_t)j * fs, (size_t)s->k2 * fs, s->k1, zp);
                *t++ = kp_sat16(tinyc_requantize(acc, p->stage_multiplier, p->stage_shift));
            }
        }
    } else {
        for (i = 0; i < s->m2; i++) {
            const int8_t *bi = b + (size_t)i * s->k2;
            for (j = 0; j < s->k1; j++) {
                const int32_t acc = kp_dot_x(bi, x + (size_t)j * s->k2 * fs, fs, s->k2, zp);
                *t++ = kp_sat16(tinyc_requantize(acc, p->stage_multiplier, p->stage_shift));
            }
        }
    }
}

/* Scratch: int16_t[a_first ? m1*k2 : m2*k1]. res and res_requant are NULL for the plain kernel. */
static void kp_s8(const tinyc_dense_kp_s8_params *p, const tinyc_kp_csr_s8 *res, const tinyc_requant_pc *res_requant,
                  const int8_t *x, const int8_t *a, const int8_t *b, const int32_t *bias, int8_t *y, int16_t *t)
{
    const tinyc_kp_shape *s = &p->shape;
    const size_t fs = (size_t)s->in_feature_stride, ofs = (size_t)s->out_feature_stride;
    const int32_t zp = p->input_zp;
    int32_t r, i1, i2;

    for (r = 0; r < s->rows; r++) {
        const int8_t *xr = x + (size_t)r * s->in_row_stride;
        int8_t *yr = y + (size_t)r * s->out_row_stride;
        kp_stage1_s8(p, xr, a, b, t);
        for (i1 = 0; i1 < s->m1; i1++) {
            for (i2 = 0; i2 < s->m2; i2++) {
                const int32_t m = i1 * s->m2 + i2;
                int32_t acc = 0;
                if (p->a_first) {
                    acc = kp_dot_s8_s16(b + (size_t)i2 * s->k2, t + (size_t)i1 * s->k2, s->k2);
                } else {
                    acc = kp_dot_s8_s16(a + (size_t)i1 * s->k1, t + (size_t)i2 * s->k1, s->k1);
                }
                if (res) {  /* int64 sum saturated to int32, as the np.clip in ref_int8 */
                    const int64_t sum = (int64_t)acc + tinyc_requantize(kp_csr_row_s8(res, m, xr, fs, zp),
                                                                        res_requant->multiplier[i1],
                                                                        res_requant->shift[i1]);
                    acc = sum > INT32_MAX ? INT32_MAX : (sum < INT32_MIN ? INT32_MIN : (int32_t)sum);
                }
                acc = tinyc_add_bias_sat(acc, bias, m);
                yr[(size_t)m * ofs] = tinyc_requantize_s8(acc, p->requant.multiplier[i1], p->requant.shift[i1],
                                                          p->output_zp, p->clamp);
            }
        }
    }
}

void tinyc_dense_kp_s8(const tinyc_dense_kp_s8_params *p, const int8_t *x, const int8_t *a, const int8_t *b,
                       const int32_t *bias, int8_t *y, void *scratch)
{
    kp_s8(p, 0, 0, x, a, b, bias, y, (int16_t *)scratch);
}

void tinyc_dense_dkp_s8(const tinyc_dense_dkp_s8_params *p, const int8_t *x, const int8_t *a, const int8_t *b,
                        const int32_t *bias, int8_t *y, void *scratch)
{
    kp_s8(&p->kp, &p->residual, &p->residual_requant, x, a, b, bias, y, (int16_t *)scratch);
}

/* float32: the same two stages, no requantization. Scratch: float[a_first ? m1*k2 : m2*k1]. */
static void kp_f32(const tinyc_dense_kp_f32_params *p, const tinyc_kp_csr_f32 *res, const float *x, const float *a,
                   const float *b, const float *bias, float *y, float *t)
{
    const tinyc_kp_shape *s = &p->shape;
    const size_t fs = (size_t)s->in_feature_stride, ofs = (size_t)s->out_feature_stride;
    int32_t r, i, j, l;

    for (r = 0; r < s->rows; r++) {
        const float *xr = x + (size_t)r * s->in_row_stride;
        float *yr = y + (size_t)r * s->out_row_stride;
        float *tp = t;
        if (p->a_first) {
            for (i = 0; i < s->m1; i++) {
                for (j = 0; j < s->k2; j++) {
                    float acc = 0.0f;
                    for (l = 0; l < s->k1; l++) acc += a[(size_t)i * s->k1 + l] * xr[((size_t)l * s->k2 + j) * fs];
                    *tp++ = acc;
                }
            }
        } else {
            for (i = 0; i < s->m2; i++) {
                for (j = 0; j < s->k1; j++) {
                    float acc = 0.0f;
                    for (l = 0; l < s->k2; l++) acc += b[(size_t)i * s->k2 + l] * xr[((size_t)j * s->k2 + l) * fs];
                    *tp++ = acc;
                }
            }
        }
        for (i = 0; i < s->m1; i++) {
            for (j = 0; j < s->m2; j++) {
                const int32_t m = i * s->m2 + j;
                float acc = bias ? bias[m] : 0.0f;
                if (p->a_first) {
                    for (l = 0; l < s->k2; l++) acc += t[(size_t)i * s->k2 + l] * b[(size_t)j * s->k2 + l];
                } else {
                    for (l = 0; l < s->k1; l++) acc += a[(size_t)i * s->k1 + l] * t[(size_t)j * s->k1 + l];
                }
                if (res) acc += kp_csr_row_f32(res, m, xr, fs);
                yr[(size_t)m * ofs] = tinyc_clamp_f32_value(acc, p->clamp);
            }
        }
    }
}

void tinyc_dense_kp_f32(const tinyc_dense_kp_f32_params *p, const float *x, const float *a, const float *b,
                        const float *bias, float *y, void *scratch)
{
    kp_f32(p, 0, x, a, b, bias, y, (float *)scratch);
}

void tinyc_dense_dkp_f32(const tinyc_dense_dkp_f32_params *p, const float *x, const float *a, const float *b,
                         const float *bias, float *y, void *scratch)
{
    kp_f32(&p->kp, &p->residual, x, a, b, bias, y, (float *)scratch);
}
