/* tinyc_arch.h: which fast paths the target has. Set once here; kernels test TINYC_HAS_DSP and
 * TINYC_HAS_MVE (Helium, the Cortex-M55's vector extension: integer MVE is bit 0 of __ARM_FEATURE_MVE).
 * -DTINYC_PORTABLE forces the portable C path on any core; -mcpu=cortex-m55+nomve keeps DSP only. */
#ifndef TINYC_ARCH_H
#define TINYC_ARCH_H

#if defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1) && !defined(TINYC_PORTABLE)
#define TINYC_HAS_DSP 1
#include <arm_acle.h>
#else
#define TINYC_HAS_DSP 0
#endif

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(TINYC_PORTABLE)
#define TINYC_HAS_MVE 1
#include <arm_mve.h>
#else
#define TINYC_HAS_MVE 0
#endif

#if TINYC_HAS_DSP
#include <stdint.h>
#include <string.h>

/* Four int8 lanes from any address (NCHW planes have odd sizes); memcpy: one unaligned LDR on the M4,
 * no aliasing cast. */
static inline int32_t tinyc_load4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* __sxtb16 of the word rotated by 8: lanes 1, 3 as int16. gcc 12 does not fold a C rotate into
 * sxtb16's ror operand (it emits mov ror + sxtb16), hence the asm. */
static inline int32_t tinyc_sxtb16_odd(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}
#endif

#endif /* TINYC_ARCH_H */
