/* tinyc_loops.h: a strided loop nest over part of a tensor's dims (the kept or the reduced dims
 * of a reduction), stepped like an odometer. Shared by tinyc_reduce and tinyc_norm. */
#ifndef TINYC_LOOPS_H
#define TINYC_LOOPS_H

#include "tinyc_common.h"

#define TINYC_LOOPS_MAX_RANK 8

/* rank loops, outermost first (merged and size-1-free, by the compiler); rank 0 runs once.
 * Stepping loop k moves x by x_strides[k] elements and the weights (scale, bias) by
 * w_strides[k] (0 where they are broadcast). */
typedef struct {
    int32_t rank;             /* 0 .. TINYC_LOOPS_MAX_RANK */
    const int32_t *dims;      /* [rank] */
    const int32_t *x_strides; /* [rank] */
    const int32_t *w_strides; /* [rank] */
} tinyc_loops;

/* Step the row-major index idx[rank] by one, moving the offsets with it. After the last
 * element idx wraps to zeros and the offsets return to where the nest started. */
static inline void tinyc_loops_step(const tinyc_loops *l, int32_t *idx, int32_t *x_off, int32_t *w_off)
{
    int32_t k;
    for (k = l->rank - 1; k >= 0; --k) {
        *x_off += l->x_strides[k];
        *w_off += l->w_strides[k];
        if (++idx[k] < l->dims[k]) {
            return;
        }
        *x_off -= l->x_strides[k] * l->dims[k];
        *w_off -= l->w_strides[k] * l->dims[k];
        idx[k] = 0;
    }
}

#endif /* TINYC_LOOPS_H */
