/* tinyc_dense.c: dense and matmul kernels, C99, no scratch; tinyc_dense_s8 has a DSP path (Cortex-M4/M7). */
#include <string.h>

#include "tinyc_arch.h"
#include "tinyc_dense.h"

/* Scratch: 0. The input zero point leaves the inner loop (compile-time constants): sum_k (x - zp) * w =
 * sum_k x * w - zp * weight_sums[m], and with no possible saturation bias_folded[m] = bias[m] - zp * weight_sums[m].
 * Both terms and their difference fit int32 for K < 66000 (|x * w| <= 128 * 127, |x - zp| <= 255),
 * and integer sums are exact in any order, so the DSP and portable paths give the same bits. */
#if defined(__GNUC__)
#define TINYC_DENSE_NOINLINE __attribute__((noinline))
#else
#define TINYC_DENSE_NOINLINE
#endif

#if TINYC_HAS_DSP
/* 4 int8 at p as one word (memcpy: one unaligned ldr on M4, no aliasing cast). */
static inline int32_t tinyc_dense_load4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* __sxtb16 of the word rotated by 8: the odd int8 lanes (1, 3) as int16. One instruction; gcc 12 does
 * not fold a C rotate into sxtb16's ror operand (it emits mov ror + sxtb16), hence the asm. */
static inline int32_t tinyc_dense_sxtb16_odd(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/* gcc's pre-allocation scheduler hoists the 4 weight loads and then spills loop pointers (30 instead
 * of 25 instructions per step); without it the loop fits the 14 registers. gcc only (clang lacks it). */
#if defined(__GNUC__) && !defined(__clang__)
#define TINYC_DENSE_LOOP_ATTR __attribute__((noinline, optimize("no-schedule-insns")))
#else
#define TINYC_DENSE_LOOP_ATTR __attribute__((noinline))
#endif

/* One step of tinyc_dense_dot4: 4 inputs x 4 rows, 5 loads, 10 sxtb16, 8 smlad. */
#define TINYC_DENSE_STEP4()                                                      \
    do {                                                                         \
        const int32_t xw = tinyc_dense_load4(x);                                 \
        const int32_t x_even = __sxtb16(xw), x_odd = tinyc_dense_sxtb16_odd(xw); \
        int32_t ww;                                                              \
        x += 4;                                                                  \
        ww = tinyc_dense_load4(w0);                                              \
        w0 += 4;                                                                 \
        acc0 = __smlad(x_even, __sxtb16(ww), acc0);                              \
        acc0 = __smlad(x_odd, tinyc_dense_sxtb16_odd(ww), acc0);                 \
        ww = tinyc_dense_load4(w1);                                              \
        w1 += 4;                                                                 \
        acc1 = __smlad(x_even, __sxtb16(ww), acc1);                              \
        acc1 = __smlad(x_odd, tinyc_dense_sxtb16_odd(ww), acc1);                 \
        ww = tinyc_dense_load4(w2);                                              \
        w2 += 4;                                                                 \
        acc2 = __smlad(x_even, __sxtb16(ww), acc2);                              \
        acc2 = __smlad(x_odd, tinyc_dense_sxtb16_odd(ww), acc2);                 \
        ww = tinyc_dense_load4(w3);                                              \
        w3 += 4;                                                                 \
        acc3 = __smlad(x_even, __sxtb16(ww), acc3);                              \
        acc3 = __smlad(x_odd, tinyc_dense_sxtb16_odd(ww), acc3);                 \
    } while (0)

/* acc[i] = sum_k x[k] * w[i * k_len + k] for the 4 rows i < 4. Not inlined, so the caller's
 * variables do not compete for the loop's registers (5 pointers, end, 4 sums, 2 x halves, 2 temps).
 * Per 4 inputs: 5 loads, 10 sxtb16, 8 smlad, cmp + bne = 25 instructions for 16 MACs. */
static TINYC_DENSE_LOOP_ATTR void tinyc_dense_dot4(const int8_t *x, const int8_t *w, int32_t k_len,
                                                       int32_t *acc)
{
    const int8_t *w0 = w, *w1 = w0 + k_len, *w2 = w1 + k_len, *w3 = w2 + k_len;
    const int8_t *x_end4 = x + (k_len & ~3), *x_end = x + k_len;
    int32_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;

    while (x != x_end4) {  /* unrolling to 8 inputs makes gcc use offset loads and separate adds: slower */
        TINYC_DENSE_STEP4();
    }
    while (x != x_end) {  /* K % 4 */
        const int32_t xk = *x++;
        acc0 += xk * *w0++;
        acc1 += xk * *w1++;
        acc2 += xk * *w2++;
        acc3 += xk * *w3++;
    }
    acc[0] = acc0;
    acc[1] = acc1;
    acc[2] = acc2;
    acc[3] = acc3;
}
#endif

/* sum_k x[k] * wm[k]: with DSP 4 inputs per step, then the portable loop for K % 4 (or all of K). */
static inline int32_t tinyc_dense_dot1(const int8_t *x, const int8_t *wm, int32_t k_len)
{
    int32_t acc = 0, k = 0;
#if TINYC_HAS_DSP
    for (; k + 4 <= k_len; k += 4) {
        const int32_t xw = tinyc_dense_load4(x + k), ww = tinyc_dense_load4(wm + k);
        acc = __smlad(__sxtb16(xw), __sxtb16(ww), acc);
        acc = __smlad(tinyc_dense_sxtb16_odd(xw), tinyc_dense_sxtb16_odd(ww), acc);
    }
#endif
    for (; k < k_len; k++) {
        acc += (int32_t)x[k] * wm[k];
    }
    return acc;
}

/* The n sums sum_k x * w of rows m .. m + n - 1 to int8: plus the folded bias (no saturation can
 * occur, checked at compile time), or minus input_zp * weight_sums and plus the bias, saturated.
 * Not inlined: its locals stay in registers instead of competing with the row loop's. */
static TINYC_DENSE_NOINLINE void tinyc_dense_outputs(const tinyc_dense_s8_params *p, const int32_t *acc, int32_t n,
                                                     const int32_t *bias, int32_t m, int8_t *y)
{
    const int32_t *mult = p->requant.multiplier + m, *shift = p->requant.shift + m, *folded = p->bias_folded;
    const int32_t output_zp = p->output_zp;
    const tinyc_clamp clamp = p->clamp;
    int32_t i;
    y += m;
    if (folded != NULL) {
        folded += m;
        for (i = 0; i < n; i++) {
            y[i] = tinyc_requantize_s8(acc[i] + folded[i], mult[i], shift[i], output_zp, clamp);
        }
    } else {
        for (i = 0; i < n; i++) {
            const int32_t sum = tinyc_add_bias_sat(acc[i] - p->input_zp * p->weight_sums[m + i], bias, m + i);
            y[i] = tinyc_requantize_s8(sum, mult[i], shift[i], output_zp, clamp);
        }
    }
}

void tinyc_dense_s8(const tinyc_dense_s8_params *p, const int8_t *x, const int8_t *w,
                    const int32_t *bias, int8_t *y)
{
    const int32_t k_len = p->in_features, m_len = p->out_features;
    int32_t r, m, n;

    for (r = 0; r < p->rows; r++) {
        const int8_t *xr = x + (size_t)r * k_len;
        int8_t *yr = y + (size_t)r * m_len;
        for (m = 0; m < m_len; m += n) {  /* n rows per step: 4 with DSP (M % 4 one at a time), else 1 */
            const int8_t *wm = w + (size_t)m * k_len;
            int32_t acc[4];
            n = 1;
#if TINYC_HAS_DSP
            if (m + 4 <= m_len) {
                tinyc_dense_dot4(xr, wm, k_len, acc);
                n = 4;
            } else
#endif
            {
                acc[0] = tinyc_dense_dot1(xr, wm, k_len);
            }
            tinyc_dense_outputs(p, acc, n, bias, m, yr);
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
