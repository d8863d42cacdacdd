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

/* gcc's pre-allocation scheduler hoists the weight loads and then spills loop pointers; without it the
 * 6-row loop fits the 14 registers. gcc only (clang lacks the attribute). */
#if defined(__GNUC__) && !defined(__clang__)
#define TINYC_DENSE_LOOP_ATTR __attribute__((noinline, optimize("no-schedule-insns")))
#else
#define TINYC_DENSE_LOOP_ATTR TINYC_DENSE_NOINLINE
#endif

#if TINYC_HAS_DSP
/* One row of TINYC_DENSE_ASM_STEP: the next 4 weights of the row (post-incremented load) times x. */
#define TINYC_DENSE_ASM_ROW(a)                   \
    "ldr %[ww], [%[w]], #4\n\t"                 \
    "sxtb16 %[t], %[ww]\n\t"                    \
    "smlad %[" a "], %[xe], %[t], %[" a "]\n\t" \
    "sxtb16 %[t], %[ww], ror #8\n\t"            \
    "smlad %[" a "], %[xo], %[t], %[" a "]\n\t"

#if !defined(__OPTIMIZE__)
/* -O0 debug builds: the asm step below needs 12 free registers, more than gcc leaves at -O0; the same
 * step in intrinsics (same sums, slower). */
#define TINYC_DENSE_C_ROW(a)                                        \
    do {                                                            \
        const int32_t ww_ = tinyc_load4((const int8_t *)wb);  \
        wb += 4;                                                    \
        a = __smlad(xe, __sxtb16(ww_), a);                          \
        a = __smlad(xo, tinyc_sxtb16_odd(ww_), a);            \
    } while (0)
#define TINYC_DENSE_ASM_STEP()                                                   \
    do {                                                                         \
        const int32_t t_ = tinyc_load4(x);                                 \
        const int32_t xe = __sxtb16(t_), xo = tinyc_sxtb16_odd(t_);        \
        x += 4;                                                                  \
        TINYC_DENSE_C_ROW(a0); TINYC_DENSE_C_ROW(a1); TINYC_DENSE_C_ROW(a2);     \
        TINYC_DENSE_C_ROW(a3); TINYC_DENSE_C_ROW(a4); TINYC_DENSE_C_ROW(a5);     \
    } while (0)
#else
/* 4 inputs x the 6 rows of a block, as 33 instructions: 7 post-incremented loads, 14 sxtb16, 12 smlad
 * (the ACLE intrinsics give the same operations, but gcc 12 updates the pointers with separate adds and,
 * unrolled to 8 inputs, spills a sum). Reads 4 bytes at x and 24 at wb, advancing both. */
#define TINYC_DENSE_ASM_STEP()                                                                   \
    do {                                                                                         \
        int32_t xe, xo, ww, t;                                                                   \
        __asm__("ldr %[t], [%[x]], #4\n\t"                                                       \
                "sxtb16 %[xe], %[t]\n\t"                                                         \
                "sxtb16 %[xo], %[t], ror #8\n\t"                                                 \
                TINYC_DENSE_ASM_ROW("a0") TINYC_DENSE_ASM_ROW("a1") TINYC_DENSE_ASM_ROW("a2")      \
                TINYC_DENSE_ASM_ROW("a3") TINYC_DENSE_ASM_ROW("a4") TINYC_DENSE_ASM_ROW("a5")      \
                : [x] "+r"(x), [w] "+r"(wb), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2),           \
                  [a3] "+r"(a3), [a4] "+r"(a4), [a5] "+r"(a5), [xe] "=&r"(xe), [xo] "=&r"(xo),      \
                  [ww] "=&r"(ww), [t] "=&r"(t)                                                     \
                :                                                                                \
                : "memory");                                                                     \
    } while (0)
#endif /* __OPTIMIZE__ */
#endif

/* acc[i] = sum_k x[k] * w[i][k] for the TINYC_DENSE_BLOCK rows of one block, stored interleaved (see
 * tinyc_dense.h). With DSP: per 8 inputs 2 x 33 + cmp + bne = 68 instructions for 48 MACs; not inlined, so
 * the caller's variables do not compete for the registers (3 pointers, 6 sums, 2 x halves, 2 temps). */
static TINYC_DENSE_LOOP_ATTR void tinyc_dense_block(const int8_t *x, const int8_t *wb, int32_t k_len, int32_t *acc)
{
    const int8_t *x_end4 = x + (k_len & ~3);
    const int32_t tail = k_len & 3;
    int32_t i, t;
#if TINYC_HAS_DSP
    const int8_t *x_end8 = x + (k_len & ~7), *x_end16 = x + (k_len & ~15);
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0;
    while (x != x_end16) {  /* 16 inputs: 132 instructions, one loop test */
        TINYC_DENSE_ASM_STEP();
        TINYC_DENSE_ASM_STEP();
        TINYC_DENSE_ASM_STEP();
        TINYC_DENSE_ASM_STEP();
    }
    if (x != x_end8) {  /* 8 inputs: 66 instructions, post-incremented loads (gcc adds pointer updates) */
        TINYC_DENSE_ASM_STEP();
        TINYC_DENSE_ASM_STEP();
    }
    if (x != x_end4) {
        TINYC_DENSE_ASM_STEP();
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    acc[4] = a4;
    acc[5] = a5;
#else
    for (i = 0; i < TINYC_DENSE_BLOCK; i++) {
        acc[i] = 0;
    }
    for (; x != x_end4; x += 4) {
        for (i = 0; i < TINYC_DENSE_BLOCK; i++, wb += 4) {
            acc[i] += x[0] * wb[0] + x[1] * wb[1] + x[2] * wb[2] + x[3] * wb[3];
        }
    }
#endif
    for (i = 0; i < TINYC_DENSE_BLOCK && tail; i++) {  /* K % 4: each row's last inputs, row after row */
        for (t = 0; t < tail; t++) {
            acc[i] += x[t] * *wb++;
        }
    }
}

/* sum_k x[k] * wm[k] (a row stored plainly): with DSP 4 inputs per step, then the portable loop. */
static int32_t tinyc_dense_dot1(const int8_t *x, const int8_t *wm, int32_t k_len)
{
    int32_t acc = 0, k = 0;
#if TINYC_HAS_DSP
    for (; k + 4 <= k_len; k += 4) {
        const int32_t xw = tinyc_load4(x + k), ww = tinyc_load4(wm + k);
        acc = __smlad(__sxtb16(xw), __sxtb16(ww), acc);
        acc = __smlad(tinyc_sxtb16_odd(xw), tinyc_sxtb16_odd(ww), acc);
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
#if TINYC_HAS_DSP
            const uint32_t right = (uint32_t)-shift[i];
            if (right - 2u <= 21u) {  /* the usual shifts: tinyc_conv_fastq's one-SMLAL form (tinyc_conv_common.h) */
                const int32_t a = acc[i] + folded[i];
                uint32_t lo = 0x40000000u | ((uint32_t)a & 0x80000000u);
                int32_t hi = (int32_t)((1u << (right - 2u)) + (uint32_t)output_zp * (1u << (right - 1u))) + (a < 0 ? -1 : 0);
                __asm__("smlal %0, %1, %2, %3" : "+r"(lo), "+r"(hi) : "r"(a), "r"(mult[i]));
                y[i] = (int8_t)tinyc_clamp_i32(hi >> (right - 1u), clamp.min, clamp.max);
                continue;
            }
#endif
            y[i] = tinyc_requantize_s8(acc[i] + folded[i], mult[i], shift[i], output_zp, clamp);
        }
    } else {
        for (i = 0; i < n; i++) {
            const int32_t sum = tinyc_add_bias_sat(acc[i] - p->input_zp * p->weight_sums[m + i], bias, m + i);
            y[i] = tinyc_requantize_s8(sum, mult[i], shift[i], output_zp, clamp);
        }
    }
}

void tinyc_dense_s8(const tinyc_dense_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y)
{
    const int32_t k_len = p->in_features, m_len = p->out_features;
    const int32_t blocked = m_len - m_len % TINYC_DENSE_BLOCK;
    int32_t r, m;

    for (r = 0; r < p->rows; r++) {
        const int8_t *xr = x + (size_t)r * k_len, *w = p->weights;
        int8_t *yr = y + (size_t)r * m_len;
        int32_t acc[TINYC_DENSE_BLOCK];
        for (m = 0; m < blocked; m += TINYC_DENSE_BLOCK, w += (size_t)TINYC_DENSE_BLOCK * k_len) {
            tinyc_dense_block(xr, w, k_len, acc);
            tinyc_dense_outputs(p, acc, TINYC_DENSE_BLOCK, bias, m, yr);
        }
        for (; m < m_len; m++, w += k_len) {  /* the last M % TINYC_DENSE_BLOCK rows, stored plainly */
            acc[0] = tinyc_dense_dot1(xr, w, k_len);
            tinyc_dense_outputs(p, acc, 1, bias, m, yr);
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
