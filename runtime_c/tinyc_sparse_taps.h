/* tinyc_sparse_taps.h: the direct sparse conv (tinyc_sparse_conv.c only): each output channel's weight row
 * decoded into taps (input offset, value, kernel position) sorted by kernel position, then summed straight
 * from the NCHW input, 4 interior pixels per tap on the DSP path (stride 1). No scratch; about 980 B of
 * stack. tinyc_conv2d_csr_s8 / _nm_s8 run it when a group has few output channels (depthwise), where
 * filling columns would cost more than the taps. */
#ifndef TINYC_SPARSE_TAPS_H
#define TINYC_SPARSE_TAPS_H

#include "tinyc_sparse_conv.h"

static int32_t tinyc_csr_ptr(const tinyc_csr_s8 *w, int32_t r)
{
    if (w->row_ptr_u8 != NULL) {
        return w->row_ptr_u8[r];
    }
    return w->row_ptr_u16 != NULL ? (int32_t)w->row_ptr_u16[r] : (int32_t)w->row_ptr_u32[r];
}

static int32_t tinyc_nm_bits(int32_t m)
{
    return m <= 2 ? 1 : (m <= 4 ? 2 : 4);  /* sparse.nm_bits: a position never straddles a byte */
}

/* What the conv loops need besides the geometry. */
typedef struct {
    const tinyc_conv_geometry *g;
    int32_t input_zp, output_zp;
    tinyc_requant_pc requant;
    tinyc_clamp clamp;
    const tinyc_csr_s8 *csr;  /* exactly one of csr / nm */
    const tinyc_nm_s8 *nm;
} tinyc_sparse_conv;

/* One weight row as a list of (value, column) entries, for either encoding. */
typedef struct {
    const int8_t *values;
    const uint8_t *cols_u8;    /* CSR: one of the two column arrays; both NULL for N:M */
    const uint16_t *cols_u16;
    const uint8_t *positions;  /* N:M: the row's packed positions; NULL for CSR */
    int32_t count;             /* entries in the row (N:M: groups * n, padding pairs included) */
    int32_t n, m, bits;
} tinyc_sparse_row;

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline tinyc_sparse_row tinyc_csr_row(const tinyc_csr_s8 *w, int32_t r)
{
    tinyc_sparse_row row = {0, 0, 0, 0, 0, 1, 1, 0};
    const int32_t start = tinyc_csr_ptr(w, r);
    row.values = w->values + start;
    row.count = tinyc_csr_ptr(w, r + 1) - start;
    row.cols_u8 = w->cols_u8 != NULL ? w->cols_u8 + start : NULL;
    row.cols_u16 = w->cols_u16 != NULL ? w->cols_u16 + start : NULL;
    return row;
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline tinyc_sparse_row tinyc_nm_row(const tinyc_nm_s8 *w, int32_t r, int32_t reduction)
{
    tinyc_sparse_row row = {0, 0, 0, 0, 0, 1, 1, 0};
    row.n = w->n;
    row.m = w->m;
    row.bits = tinyc_nm_bits(w->m);
    row.count = reduction / w->m * w->n;
    row.values = w->values + (size_t)r * row.count;
    row.positions = w->positions + (size_t)r * ((row.count * row.bits + 7) / 8);
    return row;
}

/* Column of entry j of a row: CSR reads it; N:M is group j / n plus the position stored in bits. */
static int32_t tinyc_entry_col(const tinyc_sparse_row *row, int32_t j)
{
    if (row->positions != NULL) {
        const int32_t bit = j * row->bits;
        return j / row->n * row->m + ((row->positions[bit >> 3] >> (bit & 7)) & ((1 << row->bits) - 1));
    }
    return row->cols_u8 != NULL ? (int32_t)row->cols_u8[j] : (int32_t)row->cols_u16[j];
}

/* Outputs [*lo, *hi) along one axis whose every tap is inside the input (no padding read). */
static void tinyc_sparse_inner(int32_t out, int32_t in, int32_t kernel, int32_t stride, int32_t pad,
                               int32_t dilation, int32_t *lo, int32_t *hi)
{
    const int32_t last = in - 1 - (kernel - 1) * dilation + pad;  /* o * stride <= last */
    *lo = (pad + stride - 1) / stride;
    *hi = last < 0 ? 0 : tinyc_min_i32(last / stride + 1, out);
    if (*hi < *lo) {
        *hi = *lo;
    }
}

/* A decoded weight entry: its input offset from the window's top-left element, its value, and its kernel
 * position ky * KW + kx. 8 bytes: one LDRD reads offset and value (the value is the low half of a word). */
typedef struct {
    int32_t offset;  /* ci * H * W + ky * dilation_h * W + kx * dilation_w */
    int16_t w;
    uint16_t kpos;
} tinyc_tap;

/* Entries decoded at a time (8 B of stack each) and output pixels sharing one decoding (4 B each), and the
 * largest kernel (KH * KW) whose taps are bucketed by position: 640 + 64 + 100 B of stack. The column divisions
 * run once per channel (a row of at most 80 entries: a 3x3x16 filter at 50 % or 2:4) or once per 16 pixels,
 * instead of once per pixel. */
#define TINYC_SPARSE_CHUNK 80
#define TINYC_SPARSE_RUN 16
#define TINYC_SPARSE_KPOS 49

/* Decodes entries [first, first + count) of a row into taps sorted by kernel position (a counting sort, for
 * KH * KW <= TINYC_SPARSE_KPOS; larger kernels keep the row order): starts[r] is the first tap at position r,
 * starts[KH * KW] = count. A border pixel then reads, per valid kernel row, one contiguous range of taps. */
static void tinyc_decode_taps(const tinyc_sparse_row *row, int32_t first, int32_t count, const tinyc_conv_geometry *g,
                              tinyc_tap *taps, int16_t *starts)
{
    const int32_t khw = g->kernel_h * g->kernel_w, kw = g->kernel_w, plane = g->input.h * g->input.w;
    const int sorted = khw <= TINYC_SPARSE_KPOS;
    int32_t j, r;
    if (sorted) {
        for (r = 0; r <= khw; r++) {
            starts[r] = 0;
        }
        for (j = 0; j < count; j++) {
            starts[tinyc_entry_col(row, first + j) % khw + 1]++;
        }
        for (r = 0; r < khw; r++) {
            starts[r + 1] = (int16_t)(starts[r + 1] + starts[r]);
        }
    }
    for (j = 0; j < count; j++) {
        const int32_t col = tinyc_entry_col(row, first + j), ci = col / khw, kpos = col - ci * khw;
        const int32_t ky = kpos / kw, kx = kpos - ky * kw;
        tinyc_tap *t = taps + (sorted ? starts[kpos]++ : j);
        t->offset = ci * plane + ky * g->dilation_h * g->input.w + kx * g->dilation_w;
        t->w = row->values[first + j];
        t->kpos = (uint16_t)kpos;
    }
    if (sorted) {  /* the placement moved starts[r] to the end of bucket r: shift back by one bucket */
        for (r = khw; r > 0; r--) {
            starts[r] = starts[r - 1];
        }
        starts[0] = 0;
    }
}

/* acc[0..3] += sum x * w for 4 interior pixels of one output row, stride sw apart. With DSP and sw = 1
 * one unaligned word holds the 4 inputs of a tap: SXTB16 and SMLABB/SMLATB (10 instructions a tap). */
static void tinyc_conv_dot4(const tinyc_tap *taps, int32_t count, const int8_t *xg, int32_t origin, int32_t sw,
                            int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const tinyc_tap *end = taps + count;
#if TINYC_HAS_DSP
    if (sw == 1) {
        /* 10 instructions a tap: LDRD reads offset and value (the value is the tap's low half-word, which
         * SMLAxB multiplies), one unaligned LDR the 4 inputs. The window origin is an address, not a C
         * pointer: on a border row it may lie before x, only origin + offset is inside. */
        const uintptr_t xb = (uintptr_t)xg + (uintptr_t)(intptr_t)origin;
        int32_t off, w, xv, xe;
#define TINYC_SPARSE_TAP4                                 \
    "ldrd %[off], %[w], [%[tp]], #8\n\t"                  \
    "ldr %[xv], [%[xb], %[off]]\n\t"                      \
    "sxtb16 %[xe], %[xv]\n\t"                             \
    "sxtb16 %[xv], %[xv], ror #8\n\t"                     \
    "smlabb %[a0], %[xe], %[w], %[a0]\n\t"                \
    "smlabb %[a1], %[xv], %[w], %[a1]\n\t"                \
    "smlatb %[a2], %[xe], %[w], %[a2]\n\t"                \
    "smlatb %[a3], %[xv], %[w], %[a3]\n\t"
#define TINYC_SPARSE_TAP4_OPS                                                                          \
    : [tp] "+r"(taps), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [off] "=&r"(off), \
      [w] "=&r"(w), [xv] "=&r"(xv), [xe] "=&r"(xe)                                                     \
    : [xb] "r"(xb)                                                                                     \
    : "memory"
        if ((end - taps) & 1) {
            __asm__(TINYC_SPARSE_TAP4 TINYC_SPARSE_TAP4_OPS);
        }
        while (taps != end) {  /* two taps a step */
            __asm__(TINYC_SPARSE_TAP4 TINYC_SPARSE_TAP4 TINYC_SPARSE_TAP4_OPS);
        }
#undef TINYC_SPARSE_TAP4_OPS
#undef TINYC_SPARSE_TAP4
    }
#endif
    for (; taps != end; taps++) {
        const int8_t *xp = xg + (origin + taps->offset);
        const int32_t w = taps->w;
        a0 += xp[0] * w;
        a1 += xp[sw] * w;
        a2 += xp[2 * sw] * w;
        a3 += xp[3 * sw] * w;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* acc[0..1] += sum x * w for 2 interior pixels, stride sw apart (DSP, sw = 1: one halfword a tap). */
static void tinyc_conv_dot2(const tinyc_tap *taps, int32_t count, const int8_t *xg, int32_t origin, int32_t sw,
                            int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1];
    const tinyc_tap *end = taps + count;
#if TINYC_HAS_DSP
    if (sw == 1) {
        for (; taps != end; taps++) {
            uint16_t xh;
            int32_t xv;
            memcpy(&xh, xg + (origin + taps->offset), 2);
            xv = xh;
            a0 = __smlabb(__sxtb16(xv), taps->w, a0);
            a1 = __smlabb(tinyc_sxtb16_odd(xv), taps->w, a1);
        }
    }
#endif
    for (; taps != end; taps++) {
        const int8_t *xp = xg + (origin + taps->offset);
        a0 += xp[0] * taps->w;
        a1 += xp[sw] * taps->w;
    }
    acc[0] = a0;
    acc[1] = a1;
}

/* sum x * w for one interior pixel. */
static int32_t tinyc_conv_dot1(const tinyc_tap *taps, int32_t count, const int8_t *xg, int32_t origin)
{
    int32_t acc = 0, j;
    for (j = 0; j < count; j++) {
        acc += xg[origin + taps[j].offset] * taps[j].w;
    }
    return acc;
}

/* sum (x - input_zp) * w over the taps inside the input, for a border pixel whose window starts at input
 * index `origin` (maybe outside x: an index, never a pointer) and keeps kernel rows [ky_lo, ky_hi) and
 * columns [kx_lo, kx_hi). Bucketed taps: one contiguous range per kernel row; else a check per tap. */
static int32_t tinyc_conv_border(const tinyc_tap *taps, const int16_t *starts, int32_t count, int32_t kw, int32_t khw,
                                 const int8_t *xg, int32_t origin, int32_t ky_lo, int32_t ky_hi, int32_t kx_lo,
                                 int32_t kx_hi, int32_t input_zp)
{
    int32_t acc = 0, j, ky;
    if (khw <= TINYC_SPARSE_KPOS) {
        for (ky = ky_lo; ky < ky_hi; ky++) {
            const int32_t end = starts[ky * kw + kx_hi];
            for (j = starts[ky * kw + kx_lo]; j < end; j++) {
                acc += ((int32_t)xg[origin + taps[j].offset] - input_zp) * taps[j].w;
            }
        }
        return acc;
    }
    for (j = 0; j < count; j++) {
        const int32_t ty = taps[j].kpos / kw, tx = taps[j].kpos - ty * kw;
        if (ty >= ky_lo && ty < ky_hi && tx >= kx_lo && tx < kx_hi) {
            acc += ((int32_t)xg[origin + taps[j].offset] - input_zp) * taps[j].w;
        }
    }
    return acc;
}

/* Pixels [ox0, ox0 + run) of output row oy of one channel, for the decoded taps. Interior pixels (every
 * tap inside the input, ox in [in_lo, in_hi)) go 4 or 2 at a time. On a border row (inner_row 0) with bucketed
 * taps, the pixels whose columns are all inside ([xin_lo, xin_hi)) do the same over the taps of the valid
 * kernel rows, one contiguous range, minus input_zp times that range's weight sum. */
static void tinyc_conv_run_pixels(const tinyc_sparse_conv *c, const tinyc_tap *taps, const int16_t *starts,
                                  int32_t count, const int8_t *xg, int32_t oy, int32_t ox0, int32_t run, int inner_row,
                                  int32_t xin_lo, int32_t xin_hi, int32_t *acc)
{
    const tinyc_conv_geometry *g = c->g;
    const int32_t iy0 = oy * g->stride_h - g->pad_top, sw = g->stride_w, kw = g->kernel_w;
    const int32_t khw = g->kernel_h * kw;
    int32_t ky_lo, ky_hi, kx_lo, kx_hi, i, j0 = 0, j1 = count, lo = xin_lo, hi = xin_hi;
    tinyc_conv_taps(iy0, g->input.h, g->kernel_h, g->dilation_h, &ky_lo, &ky_hi);
    if (!inner_row) {
        if (khw <= TINYC_SPARSE_KPOS && ky_hi > ky_lo) {
            int32_t wsum = 0, j;
            j0 = starts[ky_lo * kw];
            j1 = starts[ky_hi * kw];
            for (j = j0; j < j1; j++) {
                wsum += taps[j].w;
            }
            for (i = lo; i < hi; i++) {
                acc[i] -= c->input_zp * wsum;
            }
        } else {
            lo = hi = run;  /* every pixel goes through tinyc_conv_border */
        }
    }
    for (i = 0; i < run;) {
        const int32_t ix0 = (ox0 + i) * sw - g->pad_left, origin = iy0 * g->input.w + ix0;
        if (i >= lo && i + 4 <= hi) {
            tinyc_conv_dot4(taps + j0, j1 - j0, xg, origin, sw, acc + i);
            i += 4;
        } else if (i >= lo && i + 2 <= hi) {
            tinyc_conv_dot2(taps + j0, j1 - j0, xg, origin, sw, acc + i);
            i += 2;
        } else if (i >= lo && i < hi) {
            acc[i++] += tinyc_conv_dot1(taps + j0, j1 - j0, xg, origin);
        } else {
            tinyc_conv_taps(ix0, g->input.w, g->kernel_w, g->dilation_w, &kx_lo, &kx_hi);
            if (ky_hi > ky_lo && kx_hi > kx_lo) {  /* else every tap is padding: the sum is 0 */
                acc[i] += tinyc_conv_border(taps, starts, count, kw, khw, xg, origin, ky_lo, ky_hi, kx_lo, kx_hi,
                                            c->input_zp);
            }
            i++;
        }
    }
}

/* One output channel, a run of up to TINYC_SPARSE_RUN pixels of an output row at a time: the row's
 * entries are decoded TINYC_SPARSE_CHUNK at a time and each decoding serves the whole run (or, for a
 * short row, the whole channel). Interior pixels sum x * w and subtract input_zp * sum w once;
 * border pixels add (x - input_zp) * w for the taps inside. */
static void tinyc_sparse_conv_channel(const tinyc_sparse_conv *c, const tinyc_sparse_row *row, int32_t oc,
                                      const int8_t *xg, const int32_t *bias, int8_t *yc)
{
    const tinyc_conv_geometry *g = c->g;
    const int32_t out_h = g->output.h, out_w = g->output.w;
    const int32_t b = bias ? bias[oc] : 0;
    tinyc_conv2d_s8_params dp;  /* the output constants, for tinyc_conv_fastq_of_s8 */
    tinyc_conv_fastq q;
    tinyc_tap taps[TINYC_SPARSE_CHUNK];
    int16_t starts[TINYC_SPARSE_KPOS + 1];
    int32_t acc[TINYC_SPARSE_RUN];
    const int decoded_once = row->count <= TINYC_SPARSE_CHUNK;
    int32_t oy_lo, oy_hi, ox_lo, ox_hi, oy, ox0, i, j, zp_wsum = 0, abs_wsum = 0, b0 = 0;
    int bias_in_sums;

    tinyc_sparse_inner(out_h, g->input.h, g->kernel_h, g->stride_h, g->pad_top, g->dilation_h, &oy_lo, &oy_hi);
    tinyc_sparse_inner(out_w, g->input.w, g->kernel_w, g->stride_w, g->pad_left, g->dilation_w, &ox_lo, &ox_hi);
    for (j = 0; j < row->count; j++) {
        zp_wsum += row->values[j];
        abs_wsum += row->values[j] < 0 ? -row->values[j] : row->values[j];
    }
    zp_wsum *= c->input_zp;  /* |sum x * w| and |zp * sum w| each stay below 2^30 for reduction < 66000 */
    /* Every partial sum stays within |b| + 384 * sum |w| (|x| <= 128, |x - zp| <= 255): when that fits int32 the
     * bias starts the sums and no saturation can occur, else it is added at the end, saturated. */
    bias_in_sums = (int64_t)(b < 0 ? -(int64_t)b : b) + (int64_t)384 * abs_wsum <= INT32_MAX;
    if (bias_in_sums) {
        b0 = b;
    }
    memset(&dp, 0, sizeof dp);
    dp.output_zp = c->output_zp;
    dp.requant = c->requant;
    dp.clamp = c->clamp;
    q = tinyc_conv_fastq_of_s8(&dp, bias_in_sums ? NULL : bias, oc, 0);  /* the bias: in the sums, or saturated */
    if (decoded_once) {  /* one chunk holds the whole row: decode it once for every pixel */
        tinyc_decode_taps(row, 0, row->count, g, taps, starts);
    }
    for (oy = 0; oy < out_h; oy++) {
        const int32_t inner_row = oy >= oy_lo && oy < oy_hi;
        for (ox0 = 0; ox0 < out_w; ox0 += TINYC_SPARSE_RUN) {
            const int32_t run = tinyc_min_i32(TINYC_SPARSE_RUN, out_w - ox0);
            /* pixels of the run whose kernel columns are all inside: [in_lo, in_hi) (interior on an inner row) */
            const int32_t in_lo = tinyc_clamp_i32(ox_lo - ox0, 0, run);
            const int32_t in_hi = tinyc_clamp_i32(ox_hi - ox0, in_lo, run);
            for (i = 0; i < run; i++) {
                acc[i] = inner_row && i >= in_lo && i < in_hi ? b0 - zp_wsum : b0;
            }
            for (j = 0; j < row->count; j += TINYC_SPARSE_CHUNK) {
                const int32_t count = tinyc_min_i32(TINYC_SPARSE_CHUNK, row->count - j);
                if (!decoded_once) {
                    tinyc_decode_taps(row, j, count, g, taps, starts);
                }
                tinyc_conv_run_pixels(c, taps, starts, count, xg, oy, ox0, run, inner_row, in_lo, in_hi, acc);
            }
            tinyc_conv_fastq_row_s8(&q, acc, yc + oy * out_w + ox0, run, 1);
        }
    }
}

static void tinyc_sparse_conv_run(const tinyc_sparse_conv *c, const int8_t *x, const int32_t *bias, int8_t *y)
{
    const tinyc_conv_geometry *g = c->g;
    const int32_t cin_g = g->input.c / g->groups, cout_g = g->output.c / g->groups;
    const int32_t in_plane = g->input.h * g->input.w, out_plane = g->output.h * g->output.w;
    const int32_t reduction = cin_g * g->kernel_h * g->kernel_w;
    int32_t n, oc;

    for (n = 0; n < g->input.n; n++) {
        for (oc = 0; oc < g->output.c; oc++) {
            /* output channel oc reads the input channels of its group: oc / cout_g (depthwise: mult) */
            const int8_t *xg = x + ((size_t)n * g->input.c + (size_t)(oc / cout_g) * cin_g) * in_plane;
            const tinyc_sparse_row row = c->csr != NULL ? tinyc_csr_row(c->csr, oc)
                                                        : tinyc_nm_row(c->nm, oc, reduction);
            tinyc_sparse_conv_channel(c, &row, oc, xg, bias, y + ((size_t)n * g->output.c + oc) * out_plane);
        }
    }
}

#endif /* TINYC_SPARSE_TAPS_H */
