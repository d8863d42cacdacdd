/* tinyc_dense.c: dense and matmul kernels, C99, no scratch; tinyc_dense_s8 has Helium (Cortex-M55) and DSP
 * (Cortex-M4/M7) paths. */
#include <string.h>

#include "tinyc_arch.h"
#include "tinyc_dense.h"
#include "tinyc_vec_requant.h"

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

#if TINYC_HAS_DSP && defined(__OPTIMIZE__)
/* Row r of step j (of 4) in a 16-input group of the layout: its 4 weights at w + 16 r + 4 j, addressed from w
 * already advanced past the group's 96 bytes by the first load of step 0 (post-incremented). */
#define TINYC_DENSE_ASM_ROW16(a, r, j)                              \
    "ldr %[ww], [%[w], #(16*" #r "+4*" #j "-96)]\n\t"             \
    "sxtb16 %[t], %[ww]\n\t"                                       \
    "smlad %[" a "], %[xe], %[t], %[" a "]\n\t"                    \
    "sxtb16 %[t], %[ww], ror #8\n\t"                               \
    "smlad %[" a "], %[xo], %[t], %[" a "]\n\t"
#define TINYC_DENSE_ASM_X16                                         \
    "ldr %[t], [%[x]], #4\n\t"                                      \
    "sxtb16 %[xe], %[t]\n\t"                                        \
    "sxtb16 %[xo], %[t], ror #8\n\t"
#define TINYC_DENSE_ASM_STEP16(j)                                                                   \
    TINYC_DENSE_ASM_X16 TINYC_DENSE_ASM_ROW16("a0", 0, j) TINYC_DENSE_ASM_ROW16("a1", 1, j)         \
    TINYC_DENSE_ASM_ROW16("a2", 2, j) TINYC_DENSE_ASM_ROW16("a3", 3, j)                             \
    TINYC_DENSE_ASM_ROW16("a4", 4, j) TINYC_DENSE_ASM_ROW16("a5", 5, j)
/* 16 inputs x 6 rows: 4 steps of 33 instructions (the step-0 row-0 load advances w by the group). */
#define TINYC_DENSE_ASM_GROUP16()                                                                \
    do {                                                                                         \
        int32_t xe, xo, ww, t;                                                                   \
        __asm__("ldr %[ww], [%[w]], #96\n\t"                                                     \
                TINYC_DENSE_ASM_X16                                                              \
                "sxtb16 %[t], %[ww]\n\t"                                                         \
                "smlad %[a0], %[xe], %[t], %[a0]\n\t"                                            \
                "sxtb16 %[t], %[ww], ror #8\n\t"                                                 \
                "smlad %[a0], %[xo], %[t], %[a0]\n\t"                                            \
                TINYC_DENSE_ASM_ROW16("a1", 1, 0) TINYC_DENSE_ASM_ROW16("a2", 2, 0)               \
                TINYC_DENSE_ASM_ROW16("a3", 3, 0) TINYC_DENSE_ASM_ROW16("a4", 4, 0)               \
                TINYC_DENSE_ASM_ROW16("a5", 5, 0)                                                \
                TINYC_DENSE_ASM_STEP16(1) TINYC_DENSE_ASM_STEP16(2) TINYC_DENSE_ASM_STEP16(3)    \
                : [x] "+r"(x), [w] "+r"(wb), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2),           \
                  [a3] "+r"(a3), [a4] "+r"(a4), [a5] "+r"(a5), [xe] "=&r"(xe), [xo] "=&r"(xo),      \
                  [ww] "=&r"(ww), [t] "=&r"(t)                                                     \
                :                                                                                \
                : "memory");                                                                     \
    } while (0)
#elif TINYC_HAS_DSP
/* -O0: the 16-input group as 4 steps over a plain pointer per row (same sums). */
#define TINYC_DENSE_ASM_GROUP16()                                                                \
    do {                                                                                         \
        int32_t j_;                                                                              \
        for (j_ = 0; j_ < 16; j_ += 4) {                                                         \
            const int32_t t_ = tinyc_load4(x);                                                   \
            const int32_t xe = __sxtb16(t_), xo = tinyc_sxtb16_odd(t_);                          \
            const int8_t *r_ = wb + j_;                                                          \
            int32_t ww_;                                                                         \
            x += 4;                                                                              \
            ww_ = tinyc_load4(r_); a0 = __smlad(xo, tinyc_sxtb16_odd(ww_), __smlad(xe, __sxtb16(ww_), a0)); \
            ww_ = tinyc_load4(r_ + 16); a1 = __smlad(xo, tinyc_sxtb16_odd(ww_), __smlad(xe, __sxtb16(ww_), a1)); \
            ww_ = tinyc_load4(r_ + 32); a2 = __smlad(xo, tinyc_sxtb16_odd(ww_), __smlad(xe, __sxtb16(ww_), a2)); \
            ww_ = tinyc_load4(r_ + 48); a3 = __smlad(xo, tinyc_sxtb16_odd(ww_), __smlad(xe, __sxtb16(ww_), a3)); \
            ww_ = tinyc_load4(r_ + 64); a4 = __smlad(xo, tinyc_sxtb16_odd(ww_), __smlad(xe, __sxtb16(ww_), a4)); \
            ww_ = tinyc_load4(r_ + 80); a5 = __smlad(xo, tinyc_sxtb16_odd(ww_), __smlad(xe, __sxtb16(ww_), a5)); \
        }                                                                                        \
        wb += 96;                                                                                \
    } while (0)
#endif

#if TINYC_HAS_MVE && !TINYC_HAS_DSP
#error "tinyc_dense: the Helium path leaves the K % 16 inputs to the DSP step (every MVE core has DSP)"
#endif

/* acc[i] = sum_k x[k] * w[i][k] for the TINYC_DENSE_BLOCK rows of one block, stored interleaved (see
 * tinyc_dense.h). With MVE: per 16 inputs 1 + 6 vector loads and 6 VMLADAVA (96 MACs); with DSP: per 16
 * inputs 4 x 33 + cmp + bne = 134 instructions. Then the 4-input groups with DSP, the last K % 4 plainly.
 * Not inlined, so the caller's variables do not compete for the registers (3 pointers, 6 sums, 4 temps). */
static TINYC_DENSE_LOOP_ATTR void tinyc_dense_block(const int8_t *x, const int8_t *wb, int32_t k_len, int32_t *acc)
{
    const int8_t *x_end16 = x + (k_len & ~15), *x_end4 = x + (k_len & ~3);
    const int32_t tail = k_len & 3;
    int32_t i, t;
#if TINYC_HAS_DSP
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0;
    while (x != x_end16) {
#if TINYC_HAS_MVE
        const int8x16_t xv = vldrbq_s8(x);
        a0 = vmladavaq_s8(a0, xv, vldrbq_s8(wb));
        a1 = vmladavaq_s8(a1, xv, vldrbq_s8(wb + 16));
        a2 = vmladavaq_s8(a2, xv, vldrbq_s8(wb + 32));
        a3 = vmladavaq_s8(a3, xv, vldrbq_s8(wb + 48));
        a4 = vmladavaq_s8(a4, xv, vldrbq_s8(wb + 64));
        a5 = vmladavaq_s8(a5, xv, vldrbq_s8(wb + 80));
        x += 16;
        wb += 96;
#else
        TINYC_DENSE_ASM_GROUP16();
#endif
    }
    while (x != x_end4) {
        TINYC_DENSE_ASM_STEP();
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    acc[4] = a4;
    acc[5] = a5;
#else
    int32_t j;
    for (i = 0; i < TINYC_DENSE_BLOCK; i++) {
        acc[i] = 0;
    }
    for (; x != x_end16; wb += 16 * TINYC_DENSE_BLOCK) {  /* as the 4-input loop below, row r at wb + 16 r */
        for (j = 0; j < 16; j += 4, x += 4) {
            const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
            const int8_t *wr = wb + j;
            for (i = 0; i < TINYC_DENSE_BLOCK; i++, wr += 16) {
                acc[i] += x0 * wr[0] + x1 * wr[1] + x2 * wr[2] + x3 * wr[3];
            }
        }
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
#if TINYC_HAS_MVE
    for (; k + 16 <= k_len; k += 16) {
        acc = vmladavaq_s8(acc, vldrbq_s8(x + k), vldrbq_s8(wm + k));
    }
    if (k < k_len) {  /* the last K % 16: predicated loads read no byte past the row */
        const mve_pred16_t pred = vctp8q((uint32_t)(k_len - k));
        acc = vmladavaq_p_s8(acc, vldrbq_z_s8(x + k, pred), vldrbq_z_s8(wm + k, pred), pred);
    }
    k = k_len;
#elif TINYC_HAS_DSP
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
 * With MVE 4 outputs per step (predicated loads: nothing read past the arrays).
 * Not inlined: its locals stay in registers instead of competing with the row loop's. */
static TINYC_DENSE_NOINLINE void tinyc_dense_outputs(const tinyc_dense_s8_params *p, const int32_t *acc, int32_t n,
                                                     const int32_t *bias, int32_t m, int8_t *y)
{
    const int32_t *mult = p->requant.multiplier + m, *shift = p->requant.shift + m, *folded = p->bias_folded;
    const int32_t output_zp = p->output_zp;
    const tinyc_clamp clamp = p->clamp;
    int32_t i;
    y += m;
#if TINYC_HAS_MVE
    for (i = 0; i < n; i += 4) {
        const mve_pred16_t pred = vctp32q((uint32_t)(n - i));
        int32x4_t sum = vldrwq_z_s32(acc + i, pred), v;
        if (folded != NULL) {
            sum = vaddq_s32(sum, vldrwq_z_s32(folded + m + i, pred));
        } else {  /* sum x * w - zp * sum w is exact in int32; the bias is added saturating */
            sum = vsubq_s32(sum, vmulq_n_s32(vldrwq_z_s32(p->weight_sums + m + i, pred), p->input_zp));
            if (bias != NULL) {
                sum = vqaddq_s32(sum, vldrwq_z_s32(bias + m + i, pred));
            }
        }
        v = tinyc_requantize_x4(sum, vldrwq_z_s32(mult + i, pred), vldrwq_z_s32(shift + i, pred));
        v = vminq_s32(vmaxq_s32(vaddq_n_s32(v, output_zp), vdupq_n_s32(clamp.min)), vdupq_n_s32(clamp.max));
        vstrbq_p_s32(y + i, v, pred);
    }
#else
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
#endif
}

/* Outputs are requantized 2 blocks (12 rows) at a time: whole Helium vectors. */
#define TINYC_DENSE_OUT_BATCH (2 * TINYC_DENSE_BLOCK)

void tinyc_dense_s8(const tinyc_dense_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y)
{
    const int32_t k_len = p->in_features, m_len = p->out_features;
    const int32_t blocked = m_len - m_len % TINYC_DENSE_BLOCK;
    int32_t r, m, n;

    for (r = 0; r < p->rows; r++) {
        const int8_t *xr = x + (size_t)r * k_len, *w = p->weights;
        int8_t *yr = y + (size_t)r * m_len;
        int32_t acc[TINYC_DENSE_OUT_BATCH];
        for (m = 0; m < blocked; m += n) {
            for (n = 0; n < TINYC_DENSE_OUT_BATCH && m + n < blocked; n += TINYC_DENSE_BLOCK) {
                tinyc_dense_block(xr, w, k_len, acc + n);
                w += (size_t)TINYC_DENSE_BLOCK * k_len;
            }
            tinyc_dense_outputs(p, acc, n, bias, m, yr);
        }
        if (m < m_len) {  /* the last M % TINYC_DENSE_BLOCK rows, stored plainly */
            for (n = 0; m + n < m_len; n++, w += k_len) {
                acc[n] = tinyc_dense_dot1(xr, w, k_len);
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
