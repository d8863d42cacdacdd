/* tinyc_store4.h: four int8 outputs of one channel in one word store (DSP cores): the fast requantization of
 * tinyc_conv_fastq in assembly, shared by the pointwise and first-layer conv kernels. */
#ifndef TINYC_STORE4_H
#define TINYC_STORE4_H

#include "tinyc_conv_common.h"

#if TINYC_HAS_DSP
/* A channel's fast-form constants (tinyc_conv_fastq) as tinyc_pw_store4 reads them (24 bytes; assembly reads
 * the fields by offset: keep their order). */
typedef struct {
    int32_t multiplier, round_hi, rs;  /* rs = right - 1 */
    int32_t lo4, hi4;                  /* the clamp bounds in each byte */
    int32_t bias;                      /* tinyc_pw_store4_qadd: added to each sum (saturating) first */
} tinyc_pw_outq;

/* The outputs of 4 consecutive pixels whose sums a0..a3 already hold the bias (no saturation possible), stored
 * as one word: per sum the one-SMLAL form of tinyc_conv_fastq_value (the sign term from the sum's top bit)
 * and SSAT to int8; then packed (PKHBT, UXTB16) and clamped bytewise to [lo, hi] (SSUB8 sets a byte's GE bit
 * when it is >= the bound's byte, SEL takes it: max, then min, as tinyc_clamp_i32). 38 instructions. */
/* The steps by register name (operands here, fixed registers in tinyc_conv_first.h's leaf): */
#define TINYC_PW_Q1_R(A, T1, T2, RH, M, RS)              \
    "and " T1 ", " A ", #0x80000000\n\t"                 \
    "orr " T1 ", " T1 ", #0x40000000\n\t"                \
    "sub " T2 ", " RH ", " A ", lsr #31\n\t"             \
    "smlal " T1 ", " T2 ", " A ", " M "\n\t"             \
    "asr " A ", " T2 ", " RS "\n\t"                      \
    "ssat " A ", #8, " A "\n\t"
#define TINYC_PW_Q1(A) TINYC_PW_Q1_R(A, "%[t1]", "%[t2]", "%[rh]", "%[m]", "%[rs]")
/* The four int8 values A0..A3 packed into A0 (A1 scratch), then clamped bytewise to [LO, HI] (lo4, hi4; S
 * scratch). */
#define TINYC_PW_PACK4_R(A0, A1, A2, A3)                                                                  \
    "pkhbt " A0 ", " A0 ", " A2 ", lsl #16\n\t"                                                           \
    "pkhbt " A1 ", " A1 ", " A3 ", lsl #16\n\t"                                                           \
    "uxtb16 " A0 ", " A0 "\n\t"                                                                          \
    "uxtb16 " A1 ", " A1 "\n\t"                                                                          \
    "orr " A0 ", " A0 ", " A1 ", lsl #8\n\t"
#define TINYC_PW_CLAMP4_R(A0, LO, HI, S)                                                                  \
    "ssub8 " S ", " A0 ", " LO "\n\t"                                                                     \
    "sel " A0 ", " A0 ", " LO "\n\t"                                                                      \
    "ssub8 " S ", " HI ", " A0 "\n\t"                                                                     \
    "sel " A0 ", " A0 ", " HI "\n\t"
#define TINYC_PW_STORE4_ASM(PRE)                                                                            \
    __asm__ volatile(PRE                                                                                    \
                     "ldrd %[m], %[rh], [%[k]]\n\t"                                                         \
                     "ldr %[rs], [%[k], #8]\n\t"                                                            \
                     TINYC_PW_Q1("%[a0]") TINYC_PW_Q1("%[a1]") TINYC_PW_Q1("%[a2]") TINYC_PW_Q1("%[a3]")    \
                     TINYC_PW_PACK4_R("%[a0]", "%[a1]", "%[a2]", "%[a3]")                                    \
                     "ldrd %[t1], %[t2], [%[k], #12]\n\t"                                                   \
                     TINYC_PW_CLAMP4_R("%[a0]", "%[t1]", "%[t2]", "%[m]")                                    \
                     "str %[a0], [%[y]]"                                                                    \
                     : [a0] "+&r"(a0), [a1] "+&r"(a1), [a2] "+&r"(a2), [a3] "+&r"(a3), [m] "=&r"(m),        \
                       [rh] "=&r"(rh), [rs] "=&r"(rs), [t1] "=&r"(t1), [t2] "=&r"(t2)                       \
                     : [k] "r"(k), [y] "r"(y)                                                               \
                     : "cc", "memory")

/* volatile asm: the store is its only effect (its register outputs are scratch) */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void tinyc_pw_store4(int8_t *y, int32_t a0, int32_t a1, int32_t a2, int32_t a3, const tinyc_pw_outq *k)
{
    int32_t m, rh, rs, t1, t2;
    TINYC_PW_STORE4_ASM("");
}

/* As tinyc_pw_store4 for raw sums: k->bias added first with QADD (saturating, as tinyc_conv_fastq_s8). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void tinyc_pw_store4_qadd(int8_t *y, int32_t a0, int32_t a1, int32_t a2, int32_t a3,
                                        const tinyc_pw_outq *k)
{
    int32_t m, rh, rs, t1, t2;
    TINYC_PW_STORE4_ASM("ldr %[m], [%[k], #20]\n\t"
                        "qadd %[a0], %[a0], %[m]\n\t"
                        "qadd %[a1], %[a1], %[m]\n\t"
                        "qadd %[a2], %[a2], %[m]\n\t"
                        "qadd %[a3], %[a3], %[m]\n\t");
}

/* A fast channel's constants (q->fast) as tinyc_pw_store4 reads them. */
static inline void tinyc_pw_outq_from(const tinyc_conv_fastq *q, tinyc_pw_outq *k)
{
    k->multiplier = q->multiplier;
    k->round_hi = q->round_hi;
    k->rs = q->right_minus_1;
    k->lo4 = (int32_t)((uint32_t)(uint8_t)q->clamp.min * 0x01010101u);
    k->hi4 = (int32_t)((uint32_t)(uint8_t)q->clamp.max * 0x01010101u);
    k->bias = q->bias;
}
#endif

#endif /* TINYC_STORE4_H */
