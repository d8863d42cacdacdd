/* tinyc_rnn_kp.c: the Kronecker-factored GRU (see tinyc_rnn_kp.h), portable C99. The int8 kernel mirrors
 * tinyc/ops/rnn_kp.py bit for bit: int32 products, int64 only where a sum of them could leave int32.
 * Right shifts of negative values are arithmetic (gcc). */
#include <math.h>

#include "tinyc_rnn_kp.h"

#define GRU_KP_HALF 16384 /* rounding term of a product of two Q0.15 values */

static int16_t gru_kp_sat16(int64_t v)
{
    return (int16_t)(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
}

/* Q0.15 x Q0.15 (or x Q3.12), rounded back by 15 bits. */
static int32_t gru_kp_mul_q15(int32_t a, int32_t b)
{
    return (a * b + GRU_KP_HALF) >> 15;
}

/* Q3.12 -> Q0.15 by a 257-entry table with 8-bit linear interpolation (as tinyc/ops/rnn.py act_q15). */
static int32_t gru_kp_act(const int16_t *table, int16_t x)
{
    const int32_t u = (int32_t)x + 32768;
    const int32_t i = u >> 8, frac = u & 255;
    const int32_t lo = table[i], hi = table[i + 1];
    return gru_kp_sat16(lo + (((hi - lo) * frac + 128) >> 8));
}

static int8_t gru_kp_out_s8(int32_t h)
{
    return (int8_t)tinyc_clamp_i32((h + 128) >> 8, -128, 127);
}

/* Gates [g0, g1) of (A (x) B) v, v int16 (k1*k2): T = sat16(requantize(A v, stage)) for those rows of A,
 * then out[m] = requantize(T[i1] . B[i2], requant[i1]), m counted from the first row of gate g0. */
static void gru_kp_product_s8(const int8_t *a, tinyc_kp_factor sa, const int8_t *b, tinyc_kp_factor sb,
                              const int16_t *v, int32_t g0, int32_t g1, tinyc_kp_stage stage,
                              const tinyc_requant_pc *requant, int16_t *t, int32_t *out)
{
    const int32_t third = sa.rows / 3, k1 = sa.cols, m2 = sb.rows, k2 = sb.cols;
    const int32_t first = g0 * third, last = g1 * third;
    int32_t i1, i2, j, l;
    int16_t *tp = t;
    for (i1 = first; i1 < last; i1++) {
        const int8_t *ai = a + (size_t)i1 * k1;
        for (j = 0; j < k2; j++) {
            int32_t acc = 0;
            for (l = 0; l < k1; l++) {
                acc += ai[l] * (int32_t)v[(size_t)l * k2 + j];
            }
            *tp++ = gru_kp_sat16(tinyc_requantize(acc, stage.multiplier, stage.shift));
        }
    }
    for (i1 = first; i1 < last; i1++) {
        const int16_t *ti = t + (size_t)(i1 - first) * k2;
        for (i2 = 0; i2 < m2; i2++) {
            const int8_t *bi = b + (size_t)i2 * k2;
            int32_t acc = 0;
            for (l = 0; l < k2; l++) {
                acc += ti[l] * (int32_t)bi[l];
            }
            *out++ = tinyc_requantize(acc, requant->multiplier[i1], requant->shift[i1]);
        }
    }
}

void tinyc_gru_kp_s8(const tinyc_gru_kp_s8_params *p, const int8_t *x, const int8_t *wa, const int8_t *wb,
                     const int8_t *ra, const int8_t *rb, const int32_t *bias, int8_t *y, int8_t *y_h, void *scratch)
{
    const int32_t steps = p->dims.seq_len, in = p->dims.input_size, hid = p->dims.hidden_size;
    const int32_t t_max = tinyc_max_i32(p->wa.rows * p->wb.cols, p->ra.rows * p->rb.cols);
    int32_t *gx = (int32_t *)scratch; /* requantized W x, 3H */
    int32_t *gh = gx + 3 * hid;       /* requantized R h (rows z, r) and R (r h) or R h (rows h), 3H */
    int16_t *z = (int16_t *)(gh + 3 * hid);
    int16_t *tmp = z + hid; /* r * h (linear_before_reset = 0) or n (= 1) */
    int16_t *h = tmp + hid;
    int16_t *t = h + hid;
    int16_t *v = t + t_max; /* x - input_zp */
    int32_t n, step, j;
    for (n = 0; n < p->batch; n++) {
        for (j = 0; j < hid; j++) {
            h[j] = 0;
        }
        for (step = 0; step < steps; step++) {
            const int32_t ts = p->reverse ? steps - 1 - step : step;
            const int8_t *xt = x + ((size_t)ts * p->batch + n) * in;
            for (j = 0; j < in; j++) {
                v[j] = (int16_t)((int32_t)xt[j] - p->input_zp);
            }
            gru_kp_product_s8(wa, p->wa, wb, p->wb, v, 0, 3, p->w_stage, &p->w_requant, t, gx);
            gru_kp_product_s8(ra, p->ra, rb, p->rb, h, 0, p->linear_before_reset ? 3 : 2, p->r_stage,
                              &p->r_requant, t, gh);
            for (j = 0; j < hid; j++) {
                const int32_t reset = gru_kp_act(p->sigmoid_table,
                                                 gru_kp_sat16((int64_t)gx[hid + j] + gh[hid + j] + bias[hid + j]));
                z[j] = (int16_t)gru_kp_act(p->sigmoid_table, gru_kp_sat16((int64_t)gx[j] + gh[j] + bias[j]));
                if (p->linear_before_reset) {
                    /* n = Wx + Wb_h + r (R h + Rb_h), the bracket saturated to Q3.12 */
                    const int16_t inner = gru_kp_sat16((int64_t)gh[2 * hid + j] + bias[3 * hid + j]);
                    tmp[j] = gru_kp_sat16((int64_t)gx[2 * hid + j] + bias[2 * hid + j] + gru_kp_mul_q15(reset, inner));
                } else {
                    tmp[j] = (int16_t)gru_kp_mul_q15(reset, h[j]);
                }
            }
            if (!p->linear_before_reset) { /* R_h (r h), after every r h is known */
                gru_kp_product_s8(ra, p->ra, rb, p->rb, tmp, 2, 3, p->r_stage, &p->r_requant, t, gh + 2 * hid);
            }
            for (j = 0; j < hid; j++) {
                int32_t nv = tmp[j], h_tilde;
                if (!p->linear_before_reset) {
                    nv = gru_kp_sat16((int64_t)gx[2 * hid + j] + bias[2 * hid + j] + gh[2 * hid + j] + bias[3 * hid + j]);
                }
                h_tilde = gru_kp_act(p->tanh_table, (int16_t)nv);
                /* h = (1 - z) h~ + z h; |each product| <= 2^30, so the sum fits int32 */
                h[j] = (int16_t)(((32768 - z[j]) * h_tilde + z[j] * h[j] + GRU_KP_HALF) >> 15);
            }
            for (j = 0; y && j < hid; j++) {
                y[((size_t)ts * p->batch + n) * hid + j] = gru_kp_out_s8(h[j]);
            }
        }
        for (j = 0; y_h && j < hid; j++) {
            y_h[(size_t)n * hid + j] = gru_kp_out_s8(h[j]);
        }
    }
}

/* ---- float32 ---- */

/* Gates [g0, g1) of (A (x) B) v, into out (counted from the first row of gate g0). */
static void gru_kp_product_f32(const float *a, tinyc_kp_factor sa, const float *b, tinyc_kp_factor sb,
                               const float *v, int32_t g0, int32_t g1, float *t, float *out)
{
    const int32_t third = sa.rows / 3, k1 = sa.cols, m2 = sb.rows, k2 = sb.cols;
    const int32_t first = g0 * third, last = g1 * third;
    int32_t i1, i2, j, l;
    float *tp = t;
    for (i1 = first; i1 < last; i1++) {
        for (j = 0; j < k2; j++) {
            float acc = 0.0f;
            for (l = 0; l < k1; l++) {
                acc += a[(size_t)i1 * k1 + l] * v[(size_t)l * k2 + j];
            }
            *tp++ = acc;
        }
    }
    for (i1 = first; i1 < last; i1++) {
        for (i2 = 0; i2 < m2; i2++) {
            float acc = 0.0f;
            for (l = 0; l < k2; l++) {
                acc += t[(size_t)(i1 - first) * k2 + l] * b[(size_t)i2 * k2 + l];
            }
            *out++ = acc;
        }
    }
}

static float gru_kp_sigmoid_f32(float v)
{
    return 1.0f / (1.0f + expf(-v));
}

void tinyc_gru_kp_f32(const tinyc_gru_kp_f32_params *p, const float *x, const float *wa, const float *wb,
                      const float *ra, const float *rb, const float *b, float *y, float *y_h, void *scratch)
{
    const int32_t steps = p->dims.seq_len, in = p->dims.input_size, hid = p->dims.hidden_size;
    float *h = (float *)scratch;
    float *z = h + hid;
    float *tmp = z + hid;
    float *gx = tmp + hid;
    float *gh = gx + 3 * hid;
    float *t = gh + 3 * hid;
    int32_t n, step, j;
    for (n = 0; n < p->batch; n++) {
        for (j = 0; j < hid; j++) {
            h[j] = 0.0f;
        }
        for (step = 0; step < steps; step++) {
            const int32_t ts = p->reverse ? steps - 1 - step : step;
            const float *xt = x + ((size_t)ts * p->batch + n) * in;
            gru_kp_product_f32(wa, p->wa, wb, p->wb, xt, 0, 3, t, gx);
            gru_kp_product_f32(ra, p->ra, rb, p->rb, h, 0, p->linear_before_reset ? 3 : 2, t, gh);
            for (j = 0; j < hid; j++) {
                const float wbz = b ? b[j] + b[3 * hid + j] : 0.0f, wbr = b ? b[hid + j] + b[4 * hid + j] : 0.0f;
                const float reset = gru_kp_sigmoid_f32(gx[hid + j] + gh[hid + j] + wbr);
                z[j] = gru_kp_sigmoid_f32(gx[j] + gh[j] + wbz);
                if (p->linear_before_reset) {
                    tmp[j] = gx[2 * hid + j] + (b ? b[2 * hid + j] : 0.0f)
                             + reset * (gh[2 * hid + j] + (b ? b[5 * hid + j] : 0.0f));
                } else {
                    tmp[j] = reset * h[j];
                }
            }
            if (!p->linear_before_reset) {
                gru_kp_product_f32(ra, p->ra, rb, p->rb, tmp, 2, 3, t, gh + 2 * hid);
            }
            for (j = 0; j < hid; j++) {
                float nv = tmp[j];
                if (!p->linear_before_reset) {
                    nv = gx[2 * hid + j] + gh[2 * hid + j] + (b ? b[2 * hid + j] + b[5 * hid + j] : 0.0f);
                }
                h[j] = (1.0f - z[j]) * tanhf(nv) + z[j] * h[j];
            }
            for (j = 0; y && j < hid; j++) {
                y[((size_t)ts * p->batch + n) * hid + j] = h[j];
            }
        }
        for (j = 0; y_h && j < hid; j++) {
            y_h[(size_t)n * hid + j] = h[j];
        }
    }
}
