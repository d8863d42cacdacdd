/* tinyc_arch.h: which fast paths the target has. Set once here; kernels test TINYC_HAS_DSP.
 * -DTINYC_PORTABLE forces the portable C path on any core. */
#ifndef TINYC_ARCH_H
#define TINYC_ARCH_H

#if defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1) && !defined(TINYC_PORTABLE)
#define TINYC_HAS_DSP 1
#include <arm_acle.h>
#else
#define TINYC_HAS_DSP 0
#endif

#endif /* TINYC_ARCH_H */
