/* tinyc_sparse_conv.h: conv2d layers with compressed int8 weights, CSR or N:M (the encodings of
 * tinyc_sparse.h over W (Co, Ci/groups, KH, KW) flattened so that k = (ci * KH + ky) * KW + kx).
 * Results equal tinyc_conv2d_s8 bit for bit: a missing weight is a zero weight. */
#ifndef TINYC_SPARSE_CONV_H
#define TINYC_SPARSE_CONV_H

#include "tinyc_sparse.h"

/* Conv, as tinyc_conv2d_s8_params plus the weights; groups (depthwise included), strides,
 * dilations and asymmetric pads as tinyc_conv2d_s8: taps outside the input add real zero. */
typedef struct {
    tinyc_conv_geometry geom;
    int32_t input_zp;
    int32_t output_zp;
    tinyc_requant_pc requant;  /* one per output channel */
    tinyc_clamp clamp;
    tinyc_csr_s8 weights;
} tinyc_conv2d_csr_s8_params;

typedef struct {
    tinyc_conv_geometry geom;
    int32_t input_zp;
    int32_t output_zp;
    tinyc_requant_pc requant;
    tinyc_clamp clamp;
    tinyc_nm_s8 weights;
} tinyc_conv2d_nm_s8_params;

/* x NCHW int8 (1-D: N, C, 1, L), bias int32 (Co) or NULL, y NCHW int8. Exact for
 * Ci/groups * KH * KW < 66000.
 *
 * tinyc_conv2d_csr_cols_s8 / _nm_cols_s8: the columns of 4 output pixels (the dense conv's column fill,
 * taps outside x holding input_zp) as int16 scratch, col[4 k + s] = pixel (s & 1) * 2 + (s >> 1) at k,
 * so one LDRD gives a k's 4 values; each stored weight of each output channel of the group then adds
 * w * col to 4 sums (SMLABB/SMLATB/SMLABT/SMLATT on the DSP path, the weight lane of an SXTB16 pair),
 * minus input_zp * (the row's weight sum), plus the bias with saturation. Scratch (4-byte aligned): 8 * K
 * bytes of columns and 40 * Co bytes of output constants (tinyc_conv_fastq, with that zero-point term).
 *
 * tinyc_conv2d_csr_s8 / _nm_s8: direct taps, for groups of few output channels (depthwise), where
 * columns cost more than they save. Scratch: 0. Stack: about 980 B (80 decoded entries sorted by
 * kernel position, 50 bucket starts, 16 accumulators); KH * KW <= 65536. With TINYC_HAS_DSP and
 * stride 1, 4 interior pixels per tap from one word (SXTB16 + SMLABB/SMLATB). */
void tinyc_conv2d_csr_cols_s8(const tinyc_conv2d_csr_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y,
                              void *scratch);
void tinyc_conv2d_nm_cols_s8(const tinyc_conv2d_nm_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y,
                             void *scratch);
void tinyc_conv2d_csr_s8(const tinyc_conv2d_csr_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y);
void tinyc_conv2d_nm_s8(const tinyc_conv2d_nm_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y);

#endif /* TINYC_SPARSE_CONV_H */
