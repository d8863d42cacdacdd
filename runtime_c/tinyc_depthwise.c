/* tinyc_depthwise.c: depthwise convolution kernels, portable C99, no scratch (loop order and
 * padding as tinyc_conv.c). */
#include "tinyc_depthwise.h"
#include "tinyc_conv_mve.h"

/* Depthwise 3x3, stride 1, dilation 1, pad 1 on every side, multiplier 1: one channel plane.
 * A missing row (top or bottom output row) gets zero weights and reads a valid row instead, so every
 * output is a 9-tap sum; a missing column (first or last output column) drops its 3 taps. The sum is
 * sum x * w - input_zp * (sum of the taps' weights): ref_int8's sum (x - input_zp) * w over the
 * in-bounds taps (padding is real zero), exact in int32 (9 * 255 * 127). */
static void tinyc_depthwise_3x3_plane_s8(const tinyc_conv2d_s8_params *p, const int8_t *xc, const int8_t *wc,
                                      const int32_t *bias, int32_t oc, int8_t *yc)
{
    const int32_t h = p->geom.input.h, wd = p->geom.input.w, zp = p->input_zp;
    const tinyc_conv_channel chan = tinyc_conv_channel_of_s8(p, bias, oc), *ch = &chan;
    int32_t oy, ox;
    for (oy = 0; oy < h; oy++) {
        const int32_t top = oy > 0, bottom = oy + 1 < h;
        const int8_t *r0 = xc + (oy - top) * wd, *r1 = xc + oy * wd, *r2 = xc + (oy + bottom) * wd;
        const int32_t w0 = top ? wc[0] : 0, w1 = top ? wc[1] : 0, w2 = top ? wc[2] : 0;
        const int32_t w3 = wc[3], w4 = wc[4], w5 = wc[5];
        const int32_t w6 = bottom ? wc[6] : 0, w7 = bottom ? wc[7] : 0, w8 = bottom ? wc[8] : 0;
        const int32_t left_sum = w0 + w3 + w6, mid_sum = w1 + w4 + w7, right_sum = w2 + w5 + w8;
        int8_t *yr = yc + oy * wd;
        if (wd == 1) {
            yr[0] = tinyc_conv_finish_s8(p, ch, w1 * r0[0] + w4 * r1[0] + w7 * r2[0] - zp * mid_sum);
            continue;
        }
        yr[0] = tinyc_conv_finish_s8(p, ch, w1 * r0[0] + w2 * r0[1] + w4 * r1[0] + w5 * r1[1]
                                                   + w7 * r2[0] + w8 * r2[1] - zp * (mid_sum + right_sum));
        {
            const int32_t zsum = zp * (left_sum + mid_sum + right_sum);
            for (ox = 1; ox + 1 < wd; ox++) {
                const int32_t acc = w0 * r0[ox - 1] + w1 * r0[ox] + w2 * r0[ox + 1]
                                  + w3 * r1[ox - 1] + w4 * r1[ox] + w5 * r1[ox + 1]
                                  + w6 * r2[ox - 1] + w7 * r2[ox] + w8 * r2[ox + 1];
                yr[ox] = tinyc_conv_finish_s8(p, ch, acc - zsum);
            }
        }
        ox = wd - 1;
        yr[ox] = tinyc_conv_finish_s8(p, ch, w0 * r0[ox - 1] + w1 * r0[ox] + w3 * r1[ox - 1] + w4 * r1[ox]
                                                    + w6 * r2[ox - 1] + w7 * r2[ox] - zp * (left_sum + mid_sum));
    }
}

/* groups == Ci; output channel oc = c * mult + m reads input channel c only; w (Co, 1, KH, KW)
 * int8, bias int32 (Co) or NULL. Scratch: 0. */
void tinyc_depthwise_conv2d_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                               const int32_t *bias, int8_t *y)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t in_h = g->input.h, in_w = g->input.w, out_h = g->output.h, out_w = g->output.w;
    const int32_t kh = g->kernel_h, kw = g->kernel_w, dh = g->dilation_h, dw = g->dilation_w;
    const int32_t channels = g->input.c, mult = g->output.c / g->input.c;
    const int32_t in_plane = in_h * in_w, out_plane = out_h * out_w;
    const int32_t input_zp = p->input_zp;
    const int same_3x3 = kh == 3 && kw == 3 && dh == 1 && dw == 1 && g->stride_h == 1 && g->stride_w == 1
                         && g->pad_top == 1 && g->pad_left == 1 && out_h == in_h && out_w == in_w && mult == 1;
    int32_t n, oy, ox, c, m, ky, kx;

    for (n = 0; n < g->input.n; n++) {
        const int8_t *xn = x + (size_t)n * channels * in_plane;
        int8_t *yn = y + (size_t)n * g->output.c * out_plane;
        if (same_3x3) {  /* the common MobileNet / DS-CNN case: a plane at a time, weights in registers */
            for (c = 0; c < channels; c++) {
                tinyc_depthwise_3x3_plane_s8(p, xn + (size_t)c * in_plane, w + (size_t)c * 9, bias, c,
                                          yn + (size_t)c * out_plane);
            }
            continue;
        }
        for (oy = 0; oy < out_h; oy++) {
            const int32_t iy0 = oy * g->stride_h - g->pad_top;
            int32_t ky_lo, ky_hi;
            tinyc_conv_taps(iy0, in_h, kh, dh, &ky_lo, &ky_hi);
            for (ox = 0; ox < out_w; ox++) {
                const int32_t ix0 = ox * g->stride_w - g->pad_left;
                const int32_t y_offset = oy * out_w + ox;
                int32_t kx_lo, kx_hi, taps_w, x_start;
                tinyc_conv_taps(ix0, in_w, kw, dw, &kx_lo, &kx_hi);
                taps_w = kx_hi > kx_lo ? kx_hi - kx_lo : 0;
                x_start = taps_w > 0 ? ix0 + kx_lo * dw : 0;  /* never point outside x or w */
                kx_lo = taps_w > 0 ? kx_lo : 0;
                for (c = 0; c < channels; c++) {
                    const int8_t *xc = xn + (size_t)c * in_plane + x_start;
                    for (m = 0; m < mult; m++) {
                        const int32_t oc = c * mult + m;
                        const int8_t *wc = w + (size_t)oc * kh * kw + kx_lo;
                        int32_t acc = 0;
                        for (ky = ky_lo; ky < ky_hi; ky++) {
                            const int8_t *xr = xc + (iy0 + ky * dh) * in_w;
                            const int8_t *wr = wc + ky * kw;
                            for (kx = 0; kx < taps_w; kx++) {
                                acc += ((int32_t)xr[kx * dw] - input_zp) * wr[kx];
                            }
                        }
                        acc = tinyc_add_bias_sat(acc, bias, oc);
                        yn[(size_t)oc * out_plane + y_offset] = tinyc_requantize_s8(
                            acc, p->requant.multiplier[oc], p->requant.shift[oc], p->output_zp, p->clamp);
                    }
                }
            }
        }
    }
}

#if TINYC_HAS_DSP
/* Scratch budget of the padded input rows (at least 3 rows, at most the plane's), and int32 sums
 * buffered before requantizing them (or one output row if longer); tinyc/ops/conv.py mirrors both. */
#define TINYC_DW_ROWS_BYTES 512
#define TINYC_DW_SUMS 32

/* Bytes of one padded row: the padded input row (pad_left + W), or what the column pairs read
 * (stride * even(OW) + 2), rounded up to 4. */
static int32_t tinyc_dw_row_bytes(const tinyc_conv_geometry *g)
{
    const int32_t copied = g->pad_left + g->input.w, read = g->stride_w * ((g->output.w + 1) & ~1) + 2;
    return ((copied > read ? copied : read) + 3) & ~3;
}

/* Padded rows the scratch holds: the budget's, at least 3, at most the (OH - 1) * stride + 3 read. */
static int32_t tinyc_dw_band_rows(const tinyc_conv_geometry *g, int32_t rb)
{
    const int32_t all = (g->output.h - 1) * g->stride_h + 3;
    const int32_t n = TINYC_DW_ROWS_BYTES / rb < 3 ? 3 : TINYC_DW_ROWS_BYTES / rb;
    return n < all ? n : all;
}

/* Taps of one kernel row for the output pair (ox, ox + 1), stride 1: b = 4 bytes from padded column ox,
 * (b0, b2) . (w0, w2) + b1 * w1 and (b1, b3) . (w0, w2) + b2 * w1; MLA_* pick w1's half of w1v. */
#define TINYC_DW_ROW_S1(rp, w02, w1v, MLA_B1, MLA_B2)                                         \
    do {                                                                                  \
        const int32_t q_ = tinyc_load4(rp);                                          \
        const int32_t e_ = __sxtb16(q_), o_ = tinyc_sxtb16_odd(q_);                  \
        a0 = __smlad(e_, w02, a0);                                                        \
        a0 = MLA_B1(o_, w1v, a0);                                                         \
        a1 = __smlad(o_, w02, a1);                                                        \
        a1 = MLA_B2(e_, w1v, a1);                                                         \
    } while (0)
/* Stride 2: b0..b3 and b2..b5 from padded column 2 * ox: (b0, b2) . (w0, w2) + b1 * w1 and
 * (b2, b4) . (w0, w2) + b3 * w1. */
#define TINYC_DW_ROW_S2(rp, w02, w1v, MLA_B1, MLA_B3)                                         \
    do {                                                                                  \
        const int32_t q_ = tinyc_load4(rp), o_ = tinyc_sxtb16_odd(q_);            \
        a0 = __smlad(__sxtb16(q_), w02, a0);                                              \
        a0 = MLA_B1(o_, w1v, a0);                                                         \
        a1 = __smlad(__sxtb16(tinyc_load4((rp) + 2)), w02, a1);                           \
        a1 = MLA_B3(o_, w1v, a1);                                                         \
    } while (0)

/* (lo, hi) as an int16 pair. */
static int32_t tinyc_dw_pair(int32_t lo, int32_t hi)
{
    return (int32_t)(((uint32_t)lo & 0xffffu) | ((uint32_t)hi << 16));
}

/* Copy input row xr (W bytes) to dst, a padded row at column pad_left; its pad bytes stay input_zp. */
static void tinyc_dw_copy_row(int8_t *dst, const int8_t *xr, int32_t w)
{
    int32_t i = 0;
    for (; i + 4 <= w; i += 4) {
        const int32_t v = tinyc_load4(xr + i);
        memcpy(dst + i, &v, 4);
    }
    for (; i < w; i++) dst[i] = xr[i];
}

/* gcc only (clang lacks the attribute): the sum loops out of line with the pre-allocation scheduler off
 * fit the 14 registers (inlined into the plane loop, or scheduled, they spill the weights). */
#if defined(__GNUC__) && !defined(__clang__)
#define TINYC_DW_LOOP_ATTR __attribute__((noinline, optimize("no-schedule-insns")))
#elif defined(__GNUC__)
#define TINYC_DW_LOOP_ATTR __attribute__((noinline))
#else
#define TINYC_DW_LOOP_ATTR
#endif

/* One channel's 3x3 weights as int16 pairs: (w0, w2), (w3, w5), (w6, w8) along the kernel rows, (w1, w4)
 * and w7 for the middle column. */
typedef struct {
    int32_t w00, w10, w20, w01, w21;
} tinyc_dw_taps;

static tinyc_dw_taps tinyc_dw_taps_of(const int8_t *wc)
{
    tinyc_dw_taps t;
    t.w00 = tinyc_dw_pair(wc[0], wc[2]);
    t.w10 = tinyc_dw_pair(wc[3], wc[5]);
    t.w20 = tinyc_dw_pair(wc[6], wc[8]);
    t.w01 = tinyc_dw_pair(wc[1], wc[4]);
    t.w21 = wc[7];
    return t;
}

/* Stride 1: the n (even) sums sp[i] = 3x3 taps of padded rows rp, rp + rb, rp + 2 rb from column i,
 * 2 columns per step. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void tinyc_dw_sums_s1_loop(const tinyc_dw_taps *t, const int8_t *rp, int32_t rb, int32_t *sp,
                                         int32_t n)
{
    const int32_t w00 = t->w00, w10 = t->w10, w20 = t->w20, w01 = t->w01, w21 = t->w21;
    const int8_t *end = rp + n;
    for (; rp < end; rp += 2, sp += 2) {
        const int32_t q = tinyc_load4(rp), e = __sxtb16(q), o = tinyc_sxtb16_odd(q);
        int32_t a0 = __smlabb(o, w01, __smuad(e, w00)), a1 = __smlatb(e, w01, __smuad(o, w00));
        TINYC_DW_ROW_S1(rp + rb, w10, w01, __smlabt, __smlatt);
        TINYC_DW_ROW_S1(rp + 2 * rb, w20, w21, __smlabb, __smlatb);
        sp[0] = a0;
        sp[1] = a1;
    }
}

/* Stride 2 along the row: the n (even) sums sp[i] from padded column 2 i. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void tinyc_dw_sums_s2_loop(const tinyc_dw_taps *t, const int8_t *rp, int32_t rb, int32_t *sp,
                                         int32_t n)
{
    const int32_t w00 = t->w00, w10 = t->w10, w20 = t->w20, w01 = t->w01, w21 = t->w21;
    const int8_t *end = rp + 2 * n;
    for (; rp < end; rp += 4, sp += 2) {
        const int32_t q = tinyc_load4(rp), o = tinyc_sxtb16_odd(q);
        int32_t a0 = __smlabb(o, w01, __smuad(__sxtb16(q), w00));
        int32_t a1 = __smlatb(o, w01, __smuad(__sxtb16(tinyc_load4(rp + 2)), w00));
        TINYC_DW_ROW_S2(rp + rb, w10, w01, __smlabt, __smlatt);
        TINYC_DW_ROW_S2(rp + 2 * rb, w20, w21, __smlabb, __smlatb);
        sp[0] = a0;
        sp[1] = a1;
    }
}

TINYC_DW_LOOP_ATTR
static void tinyc_dw_sums_s1(const tinyc_dw_taps *t, const int8_t *rp, int32_t rb, int32_t *sp, int32_t n)
{
    tinyc_dw_sums_s1_loop(t, rp, rb, sp, n);
}

TINYC_DW_LOOP_ATTR
static void tinyc_dw_sums_s2(const tinyc_dw_taps *t, const int8_t *rp, int32_t rb, int32_t *sp, int32_t n)
{
    tinyc_dw_sums_s2_loop(t, rp, rb, sp, n);
}

/* y[r * w + i] = the output of sums[r * pitch + i], i < w, r < rows (w, rows >= 1): a block of output
 * rows whose sums lie pitch apart, the channel's constants read once. The usual tail (the fast form, clamp
 * (-128, 127): SSAT is the whole clamp) is one loop over the outputs with the row ends as checks (rows of
 * a few outputs: an inner loop's set-up costs as much as the row); any other goes a row at a time. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void tinyc_dw_outputs_rows(const tinyc_conv_fastq *q, const int32_t *sums, int32_t pitch, int8_t *y,
                                         int32_t w, int32_t rows)
{
    int32_t r;
    if (q->fast && q->clamp.max == 127 && q->clamp.min == -128) {
        const int32_t bias = q->bias, multiplier = q->multiplier, rs = q->right_minus_1, round_hi = q->round_hi;
        const int32_t skip = pitch - w;
        const int8_t *const y_end = y + w * rows;
        const int8_t *row_end = y + w;
        if ((w & 1) == 0) {  /* even rows: two outputs a step (one LDRD, one loop check) */
            for (;;) {
                int32_t s0, s1;
                tinyc_conv_load_pair(&sums, &s0, &s1);
                y[0] = (int8_t)__ssat(tinyc_conv_fastq_value(__qadd(s0, bias), multiplier, round_hi, rs), 8);
                y[1] = (int8_t)__ssat(tinyc_conv_fastq_value(__qadd(s1, bias), multiplier, round_hi, rs), 8);
                y += 2;
                if (y == row_end) {
                    if (y == y_end) return;
                    sums += skip;
                    row_end += w;
                }
            }
        }
        for (;;) {
            *y++ = (int8_t)__ssat(tinyc_conv_fastq_value(__qadd(*sums++, bias), multiplier, round_hi, rs), 8);
            if (y == row_end) {
                if (y == y_end) return;
                sums += skip;
                row_end += w;
            }
        }
    }
    for (r = 0; r < rows; r++) {
        tinyc_conv_fastq_row_s8(q, sums + r * pitch, y + r * w, w, 1);
    }
}

#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_dw_outputs(const tinyc_conv_fastq *q, const int32_t *sums, int32_t pitch, int8_t *y, int32_t w,
                             int32_t rows)
{
    tinyc_dw_outputs_rows(q, sums, pitch, y, w, rows);
}

/* One output row of a wide plane (its sums fill the buffer): summed, then requantized, in one call. */
TINYC_DW_LOOP_ATTR
static void tinyc_dw_row_s1(const tinyc_dw_taps *t, const tinyc_conv_fastq *q, const int8_t *rp, int32_t rb,
                            int32_t *sums, int8_t *y, int32_t w)
{
    tinyc_dw_sums_s1_loop(t, rp, rb, sums, (w + 1) & ~1);
    tinyc_dw_outputs_rows(q, sums, w, y, w, 1);
}

TINYC_DW_LOOP_ATTR
static void tinyc_dw_row_s2(const tinyc_dw_taps *t, const tinyc_conv_fastq *q, const int8_t *rp, int32_t rb,
                            int32_t *sums, int8_t *y, int32_t w)
{
    tinyc_dw_sums_s2_loop(t, rp, rb, sums, (w + 1) & ~1);
    tinyc_dw_outputs_rows(q, sums, w, y, w, 1);
}

/* The h rows of plane xc (w >= 2 bytes each) into the flat rows of pitch w + 1 from rows + pitch + 1 (see
 * tinyc_dw_3x3_flat_dsp), whole words: a row's last word may run up to 3 bytes past it, over its right pad
 * byte (written back after the row) and the next row's first bytes (rewritten by that row). The last row,
 * whose words could read past x and write into the bottom pad row, is copied exactly. Rows of up to 8
 * bytes (KWS's 5, VWW's 6 and 3) take one or two words without a loop: the loop set-up costs as much. */
static void tinyc_dw_copy_flat(int8_t *rows, const int8_t *xc, int32_t h, int32_t w, int8_t zp)
{
    const int32_t pitch = w + 1;
    int8_t *dst = rows + pitch + 1, *const last = dst + (h - 1) * pitch;
    int32_t i;
    if (w <= 4) {
        for (; dst < last; dst += pitch, xc += w) {
            const int32_t v = tinyc_load4(xc);
            memcpy(dst, &v, 4);
            dst[w] = zp;
        }
    } else if (w <= 8) {
        for (; dst < last; dst += pitch, xc += w) {
            const int32_t v0 = tinyc_load4(xc), v1 = tinyc_load4(xc + 4);
            memcpy(dst, &v0, 4);
            memcpy(dst + 4, &v1, 4);
            dst[w] = zp;
        }
    } else {
        for (; dst < last; dst += pitch, xc += w) {
            for (i = 0; i < w; i += 4) {
                const int32_t v = tinyc_load4(xc + i);
                memcpy(dst + i, &v, 4);
            }
            dst[w] = zp;
        }
    }
    tinyc_dw_copy_row(dst, xc, w);
}

/* Stride 1, pad 1 on every side, with the whole padded plane in scratch as one flat run of rows of pitch
 * W + 1 (a row's right pad is the next row's left pad; pad bytes keep the caller's input_zp fill): output
 * (oy, ox) sums at flat oy * pitch + ox, so a block of output rows is one loop over block * pitch columns
 * (the junk sums at ox = W are not stored), and its outputs are requantized in one call. Narrow planes
 * (KWS's 25x5, VWW's 12x12 and smaller) are mostly row overheads in the banded form below. */
static void tinyc_dw_3x3_flat_dsp(const tinyc_conv2d_s8_params *p, const int8_t *xc, const tinyc_dw_taps *t,
                                  const tinyc_conv_fastq *q, int8_t *yc, int8_t *rows, int32_t *sums,
                                  int32_t block)
{
    const int32_t h = p->geom.input.h, w = p->geom.input.w, pitch = w + 1;
    int32_t oy;
    tinyc_dw_copy_flat(rows, xc, h, w, (int8_t)p->input_zp);
    for (oy = 0; oy < h; oy += block) {
        const int32_t n = block < h - oy ? block : h - oy;
        tinyc_dw_sums_s1(t, rows + oy * pitch, pitch, sums, (n * pitch + 1) & ~1);
        tinyc_dw_outputs(q, sums, pitch, yc + oy * w, w, n);
    }
}

/* Output rows per block of the flat form (its sums follow the flat rows in scratch), or 0 when the
 * geometry or the scratch does not fit it. */
static int32_t tinyc_dw_flat_block(const tinyc_conv_geometry *g, int32_t rb, int32_t nb, int32_t *sums_offset)
{
    const int32_t pitch = g->input.w + 1, flat = ((g->input.h + 2) * pitch + 4 + 3) & ~3;
    const int32_t total = nb * rb + 4 * ((g->output.w > TINYC_DW_SUMS ? g->output.w : TINYC_DW_SUMS) + 2);
    int32_t block;
    if (g->stride_h != 1 || g->stride_w != 1 || g->pad_top != 1 || g->pad_left != 1
        || g->output.h != g->input.h || g->output.w != g->input.w || g->input.w < 2 || flat > nb * rb) {
        return 0;
    }
    *sums_offset = flat;
    block = (total - flat) / 4 / pitch;
    if (((block * pitch + 1) & ~1) * 4 > total - flat) block--;
    return block;
}

/* One output plane from input plane xc and 3x3 weights t, in bands of output rows: the band's padded
 * input rows (nb of rb bytes; padding holds input_zp) are copied to scratch, then each output row is
 * summed 2 columns per step (SMLAD on int16 pairs along the kernel row) into the int32 sums after them,
 * which are requantized a buffer at a time. Every sum covers all 9 taps, so the zero-point term is
 * the full weight sum (in q). */
static void tinyc_dw_3x3_plane_dsp(const tinyc_conv2d_s8_params *p, const int8_t *xc, const tinyc_dw_taps *t,
                                   const tinyc_conv_fastq *q, int8_t *yc, int8_t *rows, int32_t rb, int32_t nb)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t in_h = g->input.h, in_w = g->input.w, out_h = g->output.h, out_w = g->output.w;
    const int32_t sh = g->stride_h, sw = g->stride_w, n_sums = (out_w + 1) & ~1;
    int32_t *sums = (int32_t *)(void *)(rows + nb * rb);  /* cap sums + 1 spare */
    const int32_t cap = out_w > TINYC_DW_SUMS ? out_w : TINYC_DW_SUMS, band = (nb - 3) / sh + 1;
    int32_t filled = 0, oy0, oy, i;
    for (oy0 = 0; oy0 < out_h; oy0 += band) {
        const int32_t n_out = band < out_h - oy0 ? band : out_h - oy0, first = oy0 * sh - g->pad_top;
        int8_t *dst = rows + g->pad_left;
        for (i = 0; i < (n_out - 1) * sh + 3; i++, dst += rb) {
            const int32_t row = first + i;
            if (row >= 0 && row < in_h) {
                tinyc_dw_copy_row(dst, xc + row * in_w, in_w);
            } else if (band < out_h) {  /* one band: pad rows keep the caller's input_zp fill */
                memset(dst, p->input_zp, (size_t)in_w);
            }
        }
        for (oy = 0; oy < n_out && 2 * out_w > cap; oy++) {  /* wide rows: a row per buffer */
            if (sw == 1) {
                tinyc_dw_row_s1(t, q, rows + oy * sh * rb, rb, sums, yc + (oy0 + oy) * out_w, out_w);
            } else {
                tinyc_dw_row_s2(t, q, rows + oy * sh * rb, rb, sums, yc + (oy0 + oy) * out_w, out_w);
            }
        }
        for (; oy < n_out; oy++) {
            if (sw == 1) {
                tinyc_dw_sums_s1(t, rows + oy * sh * rb, rb, sums + filled, n_sums);
            } else {
                tinyc_dw_sums_s2(t, rows + oy * sh * rb, rb, sums + filled, n_sums);
            }
            filled += out_w;
            if (filled + out_w > cap || oy0 + oy == out_h - 1) {  /* requantize the buffered rows */
                tinyc_dw_outputs(q, sums, filled, yc + (oy0 + oy + 1) * out_w - filled, filled, 1);
                filled = 0;
            }
        }
    }
}
#endif

#if TINYC_HAS_MVE
/* Four outputs' taps of one kernel row, stride 2: padded row r from output column ox, a byte gather at
 * even offsets (stride 1 reads contiguous bytes). Lanes past the row's outputs read at most 8 bytes past the
 * row, still inside scratch (the sums follow the last row); their sums are not stored. */
#define TINYC_DW_MVE_TAP(acc, r, kx, wv) \
    acc = vmlaq_n_s32(acc, vldrbq_gather_offset_s32((r) + 2 * ox + (kx), even), wv)

/* Copy n bytes, 16 per step, the last n % 16 predicated: the rows are short, a memcpy call costs more. */
static void tinyc_dw_mve_copy_s8(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t steps = n >> 4;
    for (; steps > 0; steps--, dst += 16, src += 16) {
        vstrbq_s8(dst, vldrbq_s8(src));
    }
    if (n & 15) {
        const mve_pred16_t live = vctp8q((uint32_t)(n & 15));
        vstrbq_p_s8(dst, vldrbq_z_s8(src, live), live);
    }
}

/* Stride 1 with short rows (at most 16 bytes in and out) and the whole plane in one band of scratch: the
 * "flat" layout. Padded row i sits at i * rf with its input bytes at pad_left, rf = W + max(pad_left,
 * pad_right): a row's right pad is the next row's left pad (input_zp, like the junk bytes between), so
 * output (oy, ox) at flat position f = oy * rf + ox sums the taps at f + ky * rf + kx, and a chunk of output
 * rows is one vector loop over its positions (1 junk per row of rf instead of a rounded-up row). */
static int32_t tinyc_dw_flat_row_bytes(const tinyc_conv_geometry *g)
{
    const int32_t pad_right = g->output.w + 2 - g->pad_left - g->input.w;
    return g->input.w + (g->pad_left > pad_right ? g->pad_left : pad_right);
}

/* Bytes of the flat rows: OH + 2 padded rows, then what the wrap of the last row (pad_left <= 3) and the
 * last chunk's up to 3 lanes past its positions read, rounded up to 4 (the sums follow). */
static int32_t tinyc_dw_flat_rows_bytes(const tinyc_conv_geometry *g)
{
    return ((g->output.h + 2) * tinyc_dw_flat_row_bytes(g) + 8 + 3) & ~3;
}

/* Output rows per chunk of the flat layout in the scratch of `bytes` (tinyc_depthwise_3x3_s8's), 0 if the
 * layer does not fit it: the sums of a chunk (rounded up to 4) follow the flat rows. */
static int32_t tinyc_dw_flat_chunk_rows(const tinyc_conv_geometry *g, int32_t bytes)
{
    const int32_t pad_right = g->output.w + 2 - g->pad_left - g->input.w;
    const int32_t sums = ((bytes - tinyc_dw_flat_rows_bytes(g)) / 4) & ~3;
    if (g->stride_h != 1 || g->stride_w != 1 || g->input.w > 16 || g->output.w > 16 || g->pad_left > 3
        || pad_right > 3 || sums < 8) {
        return 0;
    }
    return sums / tinyc_dw_flat_row_bytes(g);
}

/* The int32 sums of n * 4 flat positions from r (rows of rf bytes), weights wc: three row pointers, each
 * kernel row's taps at immediate offsets. Not inlined: alone, gcc keeps the nine weights and four pointers
 * in registers (inlined into the plane loop it spilled four of them). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_dw_flat_sums_mve(const int8_t *r, int32_t rf, int32_t n, const int8_t *wc, int32_t *sums)
{
    const int32_t w0 = wc[0], w1 = wc[1], w2 = wc[2], w3 = wc[3], w4 = wc[4], w5 = wc[5];
    const int32_t w6 = wc[6], w7 = wc[7], w8 = wc[8];
    const int8_t *r0 = r, *r1 = r + rf, *r2 = r + 2 * rf;
    for (; n > 0; n--) {
        int32x4_t acc = vmulq_n_s32(vldrbq_s32(r0 + 1), w1);
        acc = vmlaq_n_s32(acc, vldrbq_s32(r0 + 2), w2);
        acc = vmlaq_n_s32(acc, vldrbq_s32(r0), w0);
        acc = vmlaq_n_s32(acc, vldrbq_s32(r1 + 1), w4);
        acc = vmlaq_n_s32(acc, vldrbq_s32(r1 + 2), w5);
        acc = vmlaq_n_s32(acc, vldrbq_s32(r1), w3);
        acc = vmlaq_n_s32(acc, vldrbq_s32(r2 + 1), w7);
        acc = vmlaq_n_s32(acc, vldrbq_s32(r2 + 2), w8);
        acc = vmlaq_n_s32(acc, vldrbq_s32(r2), w6);
        r0 += 4;
        r1 += 4;
        r2 += 4;
        vstrwq_s32(sums, acc);
        sums += 4;
    }
}

/* Stride 2 (both axes) without gathers: the "split" layout. A padded row's even columns E (E[j] = padded
 * column 2j) and odd columns O go to separate rows of re = OW + 1 bytes, so output ox's taps of a kernel row
 * are E[ox], O[ox] and E[ox + 1]: contiguous loads (a real M55 takes about a cycle per element of a byte
 * gather, one per vector of these). A chunk of k output rows reads padded rows 0..2k of its band; their
 * halves go to four regions D bytes apart, row i of a region at i * re:
 *     0: E of the even padded rows (k + 1)   D: their O   2D: E of the odd rows (k)   3D: their O
 * so output (oy, ox) at flat position f = oy * re + ox sums its taps at f + {0, 1, D} from three pointers
 * (0, 2D, re: kernel rows 0, 1, 2), and the chunk is one vector loop over its positions like the stride-1
 * flat layout (1 junk lane per row). D is TINYC_DW_SPLIT_ODD, the asm loop's immediate, where the scratch
 * holds it, else the most that fits (the C loop). The sums (or the output bytes) follow at 4D + 4. */
#define TINYC_DW_SPLIT_ODD 124
#define TINYC_DW_STR_(x) #x
#define TINYC_DW_STR(x) TINYC_DW_STR_(x)

typedef struct {
    int32_t in_h, in_w, out_h, out_w, top;
    int32_t d;         /* the regions' distance: (k + 1) * re <= d */
    int32_t re;        /* bytes of a region row: OW + 1 */
    int32_t k;         /* output rows per chunk */
    int32_t w;         /* input columns copied: those at padded columns <= 2 * OW */
    int32_t steps;     /* w / 16 */
    int32_t at_even;   /* where x's even columns go from a row's E: its E or O (pad_left odd), + pad_left / 2 */
    int32_t at_odd;    /* and its odd columns */
    int32_t out_whole; /* output rows i < out_whole are stored 16 bytes at a time (i * OW + OW rounded up to 16
                          <= OH * OW) */
    mve_pred16_t tail, tail_even, tail_odd; /* the last w % 16 bytes of x, and their even and odd halves */
    mve_pred16_t out_live;                  /* a row's OW bytes, OW <= 16 */
} tinyc_dw_split;

/* D of a layer with `bytes` of scratch: the regions (4D + 4 bytes), then 4D bytes of sums. */
static int32_t tinyc_dw_split_d(int32_t bytes)
{
    const int32_t fit = ((bytes - 4) / 8) & ~3;
    return fit < TINYC_DW_SPLIT_ODD ? fit : TINYC_DW_SPLIT_ODD;
}

/* 1 if the layer takes the split layout: stride 2 both ways, a chunk of at least one output row, and the
 * padded rows read take columns of x (pad_left <= 2 * OW). */
static int tinyc_dw_split_fits(const tinyc_conv_geometry *g, int32_t bytes)
{
    return g->stride_w == 2 && g->stride_h == 2 && tinyc_dw_split_d(bytes) / (g->output.w + 1) >= 2
           && g->pad_left <= 2 * g->output.w;
}

/* The split layout of a layer that takes it (tinyc_dw_split_fits) with `bytes` of scratch. */
static tinyc_dw_split tinyc_dw_split_of(const tinyc_conv_geometry *g, int32_t bytes)
{
    const int32_t used = 2 * g->output.w + 1 - g->pad_left;
    const int32_t pad_left = g->pad_left, swap = pad_left & 1, wide = (g->output.w + 15) & ~15;
    tinyc_dw_split sp;
    sp.in_h = g->input.h;
    sp.in_w = g->input.w;
    sp.out_h = g->output.h;
    sp.out_w = g->output.w;
    sp.top = g->pad_top;
    sp.d = tinyc_dw_split_d(bytes);
    sp.re = g->output.w + 1;
    sp.k = sp.d / sp.re - 1 < g->output.h ? sp.d / sp.re - 1 : g->output.h;
    sp.w = used < g->input.w ? used : g->input.w;
    sp.steps = sp.w >> 4;
    sp.at_even = (swap ? sp.d : 0) + (pad_left >> 1);
    sp.at_odd = (swap ? 0 : sp.d) + ((pad_left + 1) >> 1);
    sp.out_whole = sp.out_h * sp.out_w < wide ? 0 : (sp.out_h * sp.out_w - wide) / sp.out_w + 1;
    sp.tail = vctp8q((uint32_t)(sp.w & 15));
    sp.tail_even = vctp16q((uint32_t)(((sp.w & 15) + 1) >> 1));
    sp.tail_odd = vctp16q((uint32_t)((sp.w & 15) >> 1));
    sp.out_live = vctp8q((uint32_t)sp.out_w);
    return sp;
}

/* Input row xr into the split rows from e (E; O at e + d): x's even and odd columns each to the half their
 * padded column's parity picks, 16 bytes of x per step (widened to int16 lanes, stored narrowed), the last
 * w % 16 predicated. Pad bytes are never written: they keep input_zp. */
static void tinyc_dw_split_copy(const tinyc_dw_split *sp, int8_t *e, const int8_t *xr)
{
    int8_t *ev = e + sp->at_even, *od = e + sp->at_odd;
    int32_t steps = sp->steps;
    int8x16_t v;
    for (; steps > 0; steps--, xr += 16, ev += 8, od += 8) {
        v = vldrbq_s8(xr);
        vstrbq_s16(ev, vmovlbq_s8(v));
        vstrbq_s16(od, vmovltq_s8(v));
    }
    if (sp->w & 15) {
        v = vldrbq_z_s8(xr, sp->tail);
        vstrbq_p_s16(ev, vmovlbq_s8(v), sp->tail_even);
        vstrbq_p_s16(od, vmovltq_s8(v), sp->tail_odd);
    }
}

/* tinyc_dw_flat_sums_mve on the split layout: kernel rows at r, r + d1 and r + d2, the middle column's taps
 * at + d and the right's at + 1. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_dw_split_sums_mve(const int8_t *r, int32_t d1, int32_t d2, int32_t d, int32_t n, const int8_t *wc,
                                    int32_t *sums)
{
    const int32_t w0 = wc[0], w1 = wc[1], w2 = wc[2], w3 = wc[3], w4 = wc[4], w5 = wc[5];
    const int32_t w6 = wc[6], w7 = wc[7], w8 = wc[8];
    const int8_t *r0 = r, *r1 = r + d1, *r2 = r + d2;
    for (; n > 0; n--) {
        int32x4_t acc = vmulq_n_s32(vldrbq_s32(r0 + d), w1);
        acc = vmlaq_n_s32(acc, vldrbq_s32(r0 + 1), w2);
        acc = vmlaq_n_s32(acc, vldrbq_s32(r0), w0);
        acc = vmlaq_n_s32(acc, vldrbq_s32(r1 + d), w4);
        acc = vmlaq_n_s32(acc, vldrbq_s32(r1 + 1), w5);
        acc = vmlaq_n_s32(acc, vldrbq_s32(r1), w3);
        acc = vmlaq_n_s32(acc, vldrbq_s32(r2 + d), w7);
        acc = vmlaq_n_s32(acc, vldrbq_s32(r2 + 1), w8);
        acc = vmlaq_n_s32(acc, vldrbq_s32(r2), w6);
        r0 += 4;
        r1 += 4;
        r2 += 4;
        vstrwq_s32(sums, acc);
        sums += 4;
    }
}

/* 1 for the common channel, whose output step is three shorter than tinyc_mve_requantize: shift < 0 (no
 * left shift; the rounding fix-up of a negative value is a + (a >> 31)) and bias - zsum at least 2^18 inside
 * int32, so that one add of it to a raw sum (|.| < 9 * 128 * 128 < 2^18) replaces the subtract and
 * saturating add: it never saturates. */
static int tinyc_dw_common_channel(const tinyc_mve_outq *q)
{
    const int64_t folded = (int64_t)q->bias - q->zsum;
    return q->left == 0 && q->right > 0 && folded > INT32_MIN + (1 << 18) && folded < INT32_MAX - (1 << 18);
}

/* out[j] = the output of raw sum sums[j], j < n (n a multiple of 4); out may be sums itself (byte j is
 * written after int32 j is read). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_dw_requantize_mve(const tinyc_mve_outq *q, const int32_t *sums, int32_t n, int8_t *out)
{
    int32_t f;
    if (tinyc_dw_common_channel(q)) {
        const int32_t c = q->bias - q->zsum, neg_right = -q->right, zp = q->output_zp;
        const int32x4_t lo = vdupq_n_s32(q->act_min), hi = vdupq_n_s32(q->act_max);
        for (f = 0; f < n; f += 4) {
            int32x4_t a = vqrdmulhq_n_s32(vaddq_n_s32(vldrwq_s32(sums + f), c), q->multiplier);
            a = vaddq_s32(a, vshrq_n_s32(a, 31));
            a = vaddq_n_s32(vrshlq_n_s32(a, neg_right), zp);
            vstrbq_s32(out + f, vminq_s32(vmaxq_s32(a, lo), hi));
        }
        return;
    }
    for (f = 0; f < n; f += 4) {
        vstrbq_s32(out + f, tinyc_mve_requantize(q, vldrwq_s32(sums + f)));
    }
}

#if defined(__GNUC__) && defined(__OPTIMIZE__) && defined(TINYC_MVE_ASM)
/* The common channel's output constants (tinyc_dw_requantize_mve's short case) as vectors. */
typedef struct {
    int32x4_t folded, multiplier, neg_right, output_zp, act_min, act_max;
} tinyc_dw_fastq;

/* 1 if q is the common channel (tinyc_dw_common_channel), then its constants in *fq. */
static int tinyc_dw_fastq_of(const tinyc_mve_outq *q, tinyc_dw_fastq *fq)
{
    if (!tinyc_dw_common_channel(q)) {
        return 0;
    }
    fq->folded = vdupq_n_s32(q->bias - q->zsum);
    fq->multiplier = vdupq_n_s32(q->multiplier);
    fq->neg_right = vdupq_n_s32(-q->right);
    fq->output_zp = vdupq_n_s32(q->output_zp);
    fq->act_min = vdupq_n_s32(q->act_min);
    fq->act_max = vdupq_n_s32(q->act_max);
    return 1;
}

/* tinyc_dw_flat_sums_mve and the common channel's output step in one loop, n >= 1 steps of 4 output bytes
 * to out (each sum starts from bias - zsum: exact, see tinyc_dw_common_channel); kernel rows at r, r + D1,
 * r + D2 (expressions of rf), each one's taps at + AT1 (w1), + AT2 (w2) and + 0 (w0), immediates. In asm: it takes r0-r12, lr (TINYC_MVE_ASM:
 * no frame pointer) and the 8 vector registers; gcc's C spilled weights and constants (33 instructions a
 * step for the two loops, here 28). */
#define TINYC_DW_OUT_LOOP(NAME, AT1, AT2, D1, D2) \
__attribute__((noinline))                                                                                         \
static void NAME(const int8_t *r, int32_t rf, int32_t n, const int8_t *wc, const tinyc_dw_fastq *fq, int8_t *out) \
{                                                                                                                 \
    /* every register pinned: the widening loads and the narrowing store take low base registers only */          \
    register const int8_t *r0 __asm__("r0") = r, *r1 __asm__("r1") = r + (D1), *r2 __asm__("r2") = r + (D2);     \
    register int8_t *o __asm__("r3") = out;                                                                       \
    register int32_t w0 __asm__("r4") = wc[0], w1 __asm__("r5") = wc[1], w2 __asm__("r6") = wc[2];                \
    register int32_t w3 __asm__("r7") = wc[3], w4 __asm__("r8") = wc[4], w5 __asm__("r9") = wc[5];                \
    register int32_t w6 __asm__("r10") = wc[6], w7 __asm__("r11") = wc[7], w8 __asm__("r12") = wc[8];             \
    register int32_t count __asm__("lr") = n;                                                                     \
    int32x4_t acc, t;                                                                                             \
    __asm__ volatile(                                                                                             \
        "dls lr, lr\n"                                                                                            \
        "1:\n\t"                                                                                                  \
        "vmov %q[acc], %q[c]\n\t"                                                                                 \
        "vldrb.s32 %q[t], [%[r0], #" AT1 "]\n\t"                                                                  \
        "vmla.s32 %q[acc], %q[t], %[w1]\n\t"                                                                      \
        "vldrb.s32 %q[t], [%[r0], #" AT2 "]\n\t"                                                                  \
        "vmla.s32 %q[acc], %q[t], %[w2]\n\t"                                                                      \
        "vldrb.s32 %q[t], [%[r0]], #4\n\t"                                                                        \
        "vmla.s32 %q[acc], %q[t], %[w0]\n\t"                                                                      \
        "vldrb.s32 %q[t], [%[r1], #" AT1 "]\n\t"                                                                  \
        "vmla.s32 %q[acc], %q[t], %[w4]\n\t"                                                                      \
        "vldrb.s32 %q[t], [%[r1], #" AT2 "]\n\t"                                                                  \
        "vmla.s32 %q[acc], %q[t], %[w5]\n\t"                                                                      \
        "vldrb.s32 %q[t], [%[r1]], #4\n\t"                                                                        \
        "vmla.s32 %q[acc], %q[t], %[w3]\n\t"                                                                      \
        "vldrb.s32 %q[t], [%[r2], #" AT1 "]\n\t"                                                                  \
        "vmla.s32 %q[acc], %q[t], %[w7]\n\t"                                                                      \
        "vldrb.s32 %q[t], [%[r2], #" AT2 "]\n\t"                                                                  \
        "vmla.s32 %q[acc], %q[t], %[w8]\n\t"                                                                      \
        "vldrb.s32 %q[t], [%[r2]], #4\n\t"                                                                        \
        "vmla.s32 %q[acc], %q[t], %[w6]\n\t"                                                                      \
        "vqrdmulh.s32 %q[acc], %q[acc], %q[m]\n\t"                                                                \
        "vshr.s32 %q[t], %q[acc], #31\n\t"                                                                        \
        "vadd.i32 %q[acc], %q[acc], %q[t]\n\t"                                                                    \
        "vrshl.s32 %q[acc], %q[acc], %q[sh]\n\t"                                                                  \
        "vadd.i32 %q[acc], %q[acc], %q[zp]\n\t"                                                                   \
        "vmax.s32 %q[acc], %q[acc], %q[lo]\n\t"                                                                   \
        "vmin.s32 %q[acc], %q[acc], %q[hi]\n\t"                                                                   \
        "vstrb.32 %q[acc], [%[out]], #4\n\t"                                                                      \
        "le lr, 1b"                                                                                               \
        : [acc] "=&w"(acc), [t] "=&w"(t), [r0] "+l"(r0), [r1] "+l"(r1), [r2] "+l"(r2), [out] "+l"(o), "+r"(count) \
        : [c] "w"(fq->folded), [m] "w"(fq->multiplier), [sh] "w"(fq->neg_right), [zp] "w"(fq->output_zp),         \
          [lo] "w"(fq->act_min), [hi] "w"(fq->act_max), [w0] "r"(w0), [w1] "r"(w1), [w2] "r"(w2), [w3] "r"(w3),   \
          [w4] "r"(w4), [w5] "r"(w5), [w6] "r"(w6), [w7] "r"(w7), [w8] "r"(w8)                                    \
        : "memory");                                                                                              \
}
TINYC_DW_OUT_LOOP(tinyc_dw_flat_out_mve, "1", "2", rf, 2 * rf)
TINYC_DW_OUT_LOOP(tinyc_dw_split_out_mve, TINYC_DW_STR(TINYC_DW_SPLIT_ODD), "1", 2 * TINYC_DW_SPLIT_ODD, rf)
#undef TINYC_DW_OUT_LOOP
#define TINYC_DW_FLAT_ASM 1
#else
#define TINYC_DW_FLAT_ASM 0
#endif

/* What the flat layout's planes share, worked out once per layer (int8 stores may alias the params). */
typedef struct {
    int32_t in_h, in_w, out_h, out_w;
    int32_t rf;         /* tinyc_dw_flat_row_bytes */
    int32_t k;          /* output rows per chunk (tinyc_dw_flat_chunk_rows) */
    int32_t first;      /* offset of input row 0 in the rows: pad_top * rf + pad_left */
    int32_t in_whole;   /* input rows i < in_whole are read 16 bytes at a time: i * W + 16 <= H * W */
    int32_t out_whole;  /* output rows likewise stored */
    int32_t rows_bytes; /* tinyc_dw_flat_rows_bytes: the sums follow */
} tinyc_dw_flat;

static tinyc_dw_flat tinyc_dw_flat_of(const tinyc_conv_geometry *g, int32_t k)
{
    tinyc_dw_flat f;
    f.in_h = g->input.h;
    f.in_w = g->input.w;
    f.out_h = g->output.h;
    f.out_w = g->output.w;
    f.rf = tinyc_dw_flat_row_bytes(g);
    f.k = k;
    f.first = g->pad_top * f.rf + g->pad_left;
    f.in_whole = f.in_h * f.in_w < 16 ? 0 : (f.in_h * f.in_w - 16) / f.in_w + 1;
    f.out_whole = f.out_h * f.out_w < 16 ? 0 : (f.out_h * f.out_w - 16) / f.out_w + 1;
    f.rows_bytes = tinyc_dw_flat_rows_bytes(g);
    return f;
}

/* One output plane in the flat layout (rows: the flat rows, their pads input_zp): the input rows copied
 * in, then per chunk the int32 sums of its positions, requantized in place to bytes, then each output
 * row's OW bytes stored. A row's 16-byte load (of x) or store (to y) is unpredicated where it stays inside
 * the plane; the byte rows are read 16 bytes at a time inside the sums (tinyc_dw_flat_chunk_rows). */
static void tinyc_dw_3x3_flat_mve_s8(const tinyc_dw_flat *fl, const int8_t *xc, const int8_t *wc,
                                     const tinyc_mve_outq *q, int8_t *yc, int8_t *rows)
{
    const int32_t in_h = fl->in_h, in_w = fl->in_w, out_h = fl->out_h, out_w = fl->out_w, rf = fl->rf, k = fl->k;
    const int32_t in_whole = fl->in_whole, out_whole = fl->out_whole;
    const mve_pred16_t in_live = vctp8q((uint32_t)in_w), out_live = vctp8q((uint32_t)out_w);
    int32_t *sums = (int32_t *)(void *)(rows + fl->rows_bytes);
    const int8_t *bytes = (const int8_t *)sums;
    int8_t *dst = rows + fl->first;
    int32_t i, oy0;
#if TINYC_DW_FLAT_ASM
    tinyc_dw_fastq fq;
    const int fast = tinyc_dw_fastq_of(q, &fq);
#endif
    for (i = 0; i < in_whole; i++, dst += rf, xc += in_w) {  /* input row i is padded row pad_top + i */
        vstrbq_p_s8(dst, vldrbq_s8(xc), in_live);
    }
    for (; i < in_h; i++, dst += rf, xc += in_w) {
        vstrbq_p_s8(dst, vldrbq_z_s8(xc, in_live), in_live);
    }
    for (oy0 = 0; oy0 < out_h; oy0 += k) {
        const int32_t n_rows = k < out_h - oy0 ? k : out_h - oy0, n = (n_rows * rf + 3) & ~3;
        const int32_t whole = out_whole - oy0 < n_rows ? out_whole - oy0 : n_rows;
        int8_t *yr = yc + oy0 * out_w;
#if TINYC_DW_FLAT_ASM
        if (fast) {
            tinyc_dw_flat_out_mve(rows + oy0 * rf, rf, n >> 2, wc, &fq, (int8_t *)sums);
        } else
#endif
        {
            tinyc_dw_flat_sums_mve(rows + oy0 * rf, rf, n >> 2, wc, sums);
            tinyc_dw_requantize_mve(q, sums, n, (int8_t *)sums);
        }
        for (i = 0; i < whole; i++, yr += out_w) {  /* later rows overwrite the 16 - OW bytes past a row */
            vstrbq_s8(yr, vldrbq_s8(bytes + i * rf));
        }
        for (; i < n_rows; i++, yr += out_w) {
            vstrbq_p_s8(yr, vldrbq_s8(bytes + i * rf), out_live);
        }
    }
}

/* One output plane of a stride-2 layer in the split layout (sp; rows: its regions, pads input_zp): per
 * chunk the input rows split in, the int32 sums of its positions requantized in place to bytes (the common
 * channel: the asm loop), then each output row's OW bytes stored. */
#if defined(__GNUC__)
__attribute__((noinline)) /* its frame (the vector constants) apart from the flat path's: the stack stays as it was */
#endif
static void tinyc_dw_3x3_split_mve_s8(const tinyc_dw_split *sp, const int8_t *xc, const int8_t *wc,
                                      const tinyc_mve_outq *q, int8_t *yc, int8_t *rows, int8_t input_zp)
{
    const int32_t out_h = sp->out_h, out_w = sp->out_w, d = sp->d, re = sp->re, k = sp->k;
    int32_t *sums = (int32_t *)(void *)(rows + 4 * d + 4);
    const int8_t *bytes = (const int8_t *)sums;
    int32_t oy0, i, j, whole;
#if TINYC_DW_FLAT_ASM
    tinyc_dw_fastq fq;
    const int fast = d == TINYC_DW_SPLIT_ODD && tinyc_dw_fastq_of(q, &fq);
#endif
    for (oy0 = 0; oy0 < out_h; oy0 += k) {
        const int32_t n_rows = k < out_h - oy0 ? k : out_h - oy0, n = (n_rows * re + 3) & ~3;
        const int32_t first = 2 * oy0 - sp->top, n_in = 2 * n_rows + 1;
        const int32_t lo = first < 0 ? -first : 0, hi = sp->in_h - first < n_in ? sp->in_h - first : n_in;
        const int8_t *src = xc + (first + lo) * sp->in_w;
        int8_t *yr = yc + oy0 * out_w;
        for (i = lo; i < hi; i++, src += sp->in_w) { /* padded row 2 * oy0 + i: region (i & 1) * 2d, row i / 2 */
            tinyc_dw_split_copy(sp, rows + (i & 1) * 2 * d + (i >> 1) * re, src);
        }
        if (k < out_h) { /* several chunks: this one's pad rows back to input_zp (one chunk: they keep the fill) */
            for (i = 0; i < n_in; i++) {
                if (i < lo || i >= hi) {
                    int8_t *e = rows + (i & 1) * 2 * d + (i >> 1) * re;
                    memset(e, input_zp, (size_t)re);
                    memset(e + d, input_zp, (size_t)re);
                }
            }
        }
#if TINYC_DW_FLAT_ASM
        if (fast) {
            tinyc_dw_split_out_mve(rows, re, n >> 2, wc, &fq, (int8_t *)sums); /* d is TINYC_DW_SPLIT_ODD */
        } else
#endif
        {
            tinyc_dw_split_sums_mve(rows, 2 * d, re, d, n >> 2, wc, sums);
            tinyc_dw_requantize_mve(q, sums, n, (int8_t *)sums);
        }
        whole = sp->out_whole - oy0 < n_rows ? sp->out_whole - oy0 : n_rows;
        if (out_w <= 16) { /* one vector a row; later rows overwrite the 16 - OW bytes past one */
            for (i = 0; i < whole; i++, yr += out_w) {
                vstrbq_s8(yr, vldrbq_s8(bytes + i * re));
            }
            for (; i < n_rows; i++, yr += out_w) {
                vstrbq_p_s8(yr, vldrbq_s8(bytes + i * re), sp->out_live);
            }
            continue;
        }
        for (i = 0; i < whole; i++, yr += out_w) { /* wider rows: whole vectors likewise */
            for (j = 0; j < out_w; j += 16) {
                vstrbq_s8(yr + j, vldrbq_s8(bytes + i * re + j));
            }
        }
        for (; i < n_rows; i++, yr += out_w) {
            for (j = 0; j < out_w; j += 16) {
                const mve_pred16_t live = vctp8q((uint32_t)(out_w - j));
                vstrbq_p_s8(yr + j, vldrbq_z_s8(bytes + i * re + j, live), live);
            }
        }
    }
}

/* tinyc_dw_3x3_plane_dsp on Helium: the same padded row bands and sums in scratch; four output columns
 * per step as int32 lanes (nine widening loads and multiply-accumulates) into the sums, then the row
 * requantized four at a time (two loops: the weights and the tail constants do not fit the registers
 * together). */
#if defined(__GNUC__)
__attribute__((noinline))  /* out of the flat path's channel loop: its registers stay free */
#endif
static void tinyc_dw_3x3_plane_mve_s8(const tinyc_conv2d_s8_params *p, const int8_t *xc, const int8_t *wc,
                                   const tinyc_mve_outq *q, int8_t *yc, int8_t *rows, int32_t rb, int32_t nb)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t in_h = g->input.h, in_w = g->input.w, out_h = g->output.h, out_w = g->output.w;
    const int32_t sh = g->stride_h, sw = g->stride_w, band = (nb - 3) / sh + 1;
    const int32_t w0 = wc[0], w1 = wc[1], w2 = wc[2], w3 = wc[3], w4 = wc[4], w5 = wc[5];
    const int32_t w6 = wc[6], w7 = wc[7], w8 = wc[8];
    const uint32x4_t even = vidupq_n_u32(0, 2);
    int32_t *sums = (int32_t *)(void *)(rows + nb * rb);
    /* Stride 1 with narrow rows: the band's padded rows are contiguous, so output (oy, ox) sums at flat
     * position oy * rb + ox read taps at flat + ky * rb + kx: `flat` output rows at a time run as one
     * vector loop over rb columns each (the junk columns past OW and up to 3 lanes past the last row
     * read inside scratch and are not stored), filling the max(OW, 32) + 2 sums. */
    const int32_t cap = (out_w > TINYC_DW_SUMS ? out_w : TINYC_DW_SUMS) + 2, fit = (cap - 3) / rb;
    const int32_t flat = sw == 1 && sh == 1 && fit >= 2 ? fit : 0;
    int32_t oy0, oy, ox, i;
#if TINYC_DW_FLAT_ASM
    tinyc_dw_fastq fq;
    const int fast = tinyc_dw_fastq_of(q, &fq);
#endif
    for (oy0 = 0; oy0 < out_h; oy0 += band) {
        const int32_t n_out = band < out_h - oy0 ? band : out_h - oy0, first = oy0 * sh - g->pad_top;
        int8_t *dst = rows + g->pad_left;
        const int32_t lo = first < 0 ? -first : 0, n_rows = (n_out - 1) * sh + 3;
        const int32_t hi = in_h - first < n_rows ? in_h - first : n_rows;  /* rows [lo, hi) are inside x */
        if (in_w <= 16 && band >= out_h) {  /* narrow rows, one band: one predicated copy per row */
            const mve_pred16_t live = vctp8q((uint32_t)in_w);
            const int8_t *src = xc + (first + lo) * in_w;
            dst += lo * rb;
            for (i = lo; i < hi; i++, dst += rb, src += in_w) {
                vstrbq_p_s8(dst, vldrbq_z_s8(src, live), live);
            }
            i = n_rows;  /* the pad rows keep the caller's input_zp fill */
        } else {
            i = 0;
        }
        for (; i < n_rows; i++, dst += rb) {
            const int32_t row = first + i;
            if (row >= 0 && row < in_h) {
                tinyc_dw_mve_copy_s8(dst, xc + row * in_w, in_w);
            } else if (band < out_h) {  /* one band: pad rows keep the caller's input_zp fill */
                memset(dst, p->input_zp, (size_t)in_w);
            }
        }
        for (oy = 0; oy < n_out; oy++) {
            const int8_t *r0 = rows + oy * sh * rb, *r1 = r0 + rb, *r2 = r1 + rb;
            if (flat > 0) {  /* this and the next flat - 1 rows, run as one (see above) */
                const int32_t rows_now = flat < n_out - oy ? flat : n_out - oy;
                int32_t k;
                tinyc_dw_flat_sums_mve(r0, rb, (rows_now * rb + 3) >> 2, wc, sums);
                for (k = 0; k < rows_now; k++) {
                    tinyc_mve_row(q, sums + k * rb, yc + (oy0 + oy + k) * out_w, out_w);
                }
                oy += rows_now - 1;
                continue;
            }
            if (sw == 1) {  /* whole vectors straight to y, the last 1-3 columns through one more of sums */
                int8_t *yr = yc + (oy0 + oy) * out_w;
                const int32_t body = out_w & ~3;
#if TINYC_DW_FLAT_ASM
                if (fast && body > 0) {
                    tinyc_dw_flat_out_mve(r0, rb, body >> 2, wc, &fq, yr);
                } else
#endif
                {
                    tinyc_dw_flat_sums_mve(r0, rb, body >> 2, wc, sums);
                    tinyc_dw_requantize_mve(q, sums, body, yr);
                }
                if (out_w & 3) {
                    tinyc_dw_flat_sums_mve(r0 + body, rb, 1, wc, sums);
                    tinyc_mve_row(q, sums, yr + body, out_w & 3);
                }
                continue;
            }
            for (ox = 0; ox < out_w; ox += 4) {  /* stride 2 */
                int32x4_t acc = vdupq_n_s32(0);
                TINYC_DW_MVE_TAP(acc, r0, 0, w0);
                TINYC_DW_MVE_TAP(acc, r0, 1, w1);
                TINYC_DW_MVE_TAP(acc, r0, 2, w2);
                TINYC_DW_MVE_TAP(acc, r1, 0, w3);
                TINYC_DW_MVE_TAP(acc, r1, 1, w4);
                TINYC_DW_MVE_TAP(acc, r1, 2, w5);
                TINYC_DW_MVE_TAP(acc, r2, 0, w6);
                TINYC_DW_MVE_TAP(acc, r2, 1, w7);
                TINYC_DW_MVE_TAP(acc, r2, 2, w8);
                vstrwq_p_s32(sums + ox, acc, vctp32q((uint32_t)(out_w - ox)));
            }
            tinyc_dw_requantize_mve(q, sums, out_w & ~3, yc + (oy0 + oy) * out_w);
            if (out_w & 3) {
                tinyc_mve_row(q, sums + (out_w & ~3), yc + (oy0 + oy) * out_w + (out_w & ~3), out_w & 3);
            }
        }
    }
}

/* Bytes of tinyc_depthwise_3x3_s8's scratch (tinyc/ops/conv.py _depthwise_3x3_scratch). */
static int32_t tinyc_dw_scratch_bytes(const tinyc_conv_geometry *g)
{
    const int32_t rb = tinyc_dw_row_bytes(g);
    return tinyc_dw_band_rows(g, rb) * rb + 4 * ((g->output.w > TINYC_DW_SUMS ? g->output.w : TINYC_DW_SUMS) + 2);
}

/* tinyc_depthwise_3x3_s8 on Helium in the split layout (a layer that takes it: tinyc_dw_split_fits). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_dw_3x3_split_layer_mve(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                                         const int32_t *bias, int8_t *y, void *scratch, int32_t bytes)
{
    const tinyc_conv_geometry *g = &p->geom;
    const tinyc_dw_split sp = tinyc_dw_split_of(g, bytes);
    const int32_t mult = g->output.c / g->input.c;
    const int32_t in_plane = g->input.h * g->input.w, out_plane = g->output.h * g->output.w;
    int32_t n, oc;
    memset(scratch, p->input_zp, (size_t)(4 * sp.d));
    for (n = 0; n < g->input.n; n++) {
        for (oc = 0; oc < g->output.c; oc++) {
            const tinyc_mve_outq q = tinyc_mve_outq_of(p, bias, oc, p->input_zp * p->weight_sums[oc]);
            tinyc_dw_3x3_split_mve_s8(&sp, x + ((size_t)n * g->input.c + oc / mult) * in_plane, w + (size_t)oc * 9, &q,
                                      y + ((size_t)n * g->output.c + oc) * out_plane, (int8_t *)scratch,
                                      (int8_t)p->input_zp);
        }
    }
}

/* tinyc_depthwise_3x3_s8 on Helium with `bytes` of scratch, but the split layout: the flat layout where it
 * fits, else the DSP path's padded row bands, four columns per step. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_dw_3x3_mve_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                                const int32_t *bias, int8_t *y, void *scratch, int32_t bytes)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t mult = g->output.c / g->input.c;
    const int32_t in_plane = g->input.h * g->input.w, out_plane = g->output.h * g->output.w;
    const int32_t rb = tinyc_dw_row_bytes(g), nb = tinyc_dw_band_rows(g, rb), k = tinyc_dw_flat_chunk_rows(g, bytes);
    const tinyc_dw_flat fl = tinyc_dw_flat_of(g, k);
    int32_t n, oc;
    memset(scratch, p->input_zp, (size_t)(k > 0 ? fl.rows_bytes : nb * rb));
    for (n = 0; n < g->input.n; n++) {
        for (oc = 0; oc < g->output.c; oc++) {
            const int8_t *xc = x + ((size_t)n * g->input.c + oc / mult) * in_plane;
            int8_t *yc = y + ((size_t)n * g->output.c + oc) * out_plane;
            const tinyc_mve_outq q = tinyc_mve_outq_of(p, bias, oc, p->input_zp * p->weight_sums[oc]);
            if (k > 0) {
                tinyc_dw_3x3_flat_mve_s8(&fl, xc, w + (size_t)oc * 9, &q, yc, (int8_t *)scratch);
            } else {
                tinyc_dw_3x3_plane_mve_s8(p, xc, w + (size_t)oc * 9, &q, yc, (int8_t *)scratch, rb, nb);
            }
        }
    }
}

/* tinyc_depthwise_3x3_s8 on Helium: the split layout where it fits, else tinyc_dw_3x3_mve_s8. Out of line, two
 * tail calls: neither's frame under the other's, nothing added to the stack variant's. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_dw_3x3_helium_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                                   const int32_t *bias, int8_t *y, void *scratch, int32_t bytes)
{
    if (tinyc_dw_split_fits(&p->geom, bytes)) {
        tinyc_dw_3x3_split_layer_mve(p, x, w, bias, y, scratch, bytes);
    } else {
        tinyc_dw_3x3_mve_s8(p, x, w, bias, y, scratch, bytes);
    }
}
#undef TINYC_DW_MVE_TAP
#endif

/* Depthwise 3x3, dilation 1, stride 1 or 2 (each axis), any pads, any multiplier: shapes and result as
 * tinyc_depthwise_conv2d_s8. DSP: each output plane reads its input plane through NB padded rows of
 * R bytes in scratch (R = max(pad_left + W, stride_w * even(OW) + 2) rounded up to 4; NB = 512 / R,
 * at least 3, at most (OH - 1) * stride_h + 3), 2 output columns per step, and buffers int32 sums
 * (S = max(OW, 32) + 2 of them) before requantizing; stride 1 and pad 1 with the whole padded plane
 * in the NB * R bytes use the same scratch as flat rows of pitch W + 1 (tinyc_dw_3x3_flat_dsp).
 * Helium: stride 1 with rows of at most 16 bytes in the flat layout (tinyc_dw_flat_row_bytes) where the
 * plane's padded rows fit the same scratch (the stack variant: all its TINYC_DW_STACK_BYTES), stride 2 both
 * ways in the split layout (tinyc_dw_split_fits: OW up to 61 with the stack variant's scratch), else the DSP
 * layout 4 columns per step (stride 2: byte gathers).
 * Portable: tinyc_depthwise_conv2d_s8. Scratch: NB * R + 4 * S bytes (every build gets it). */
void tinyc_depthwise_3x3_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                            const int32_t *bias, int8_t *y, void *scratch)
{
#if TINYC_HAS_MVE
    tinyc_dw_3x3_helium_s8(p, x, w, bias, y, scratch, tinyc_dw_scratch_bytes(&p->geom));
    return;
#endif
#if TINYC_HAS_DSP
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t channels = g->input.c, mult = g->output.c / g->input.c;
    const int32_t in_plane = g->input.h * g->input.w, out_plane = g->output.h * g->output.w;
    const int32_t rb = tinyc_dw_row_bytes(g), nb = tinyc_dw_band_rows(g, rb);
    int8_t *rows = (int8_t *)scratch;
    int32_t n, oc, sums_offset = 0;
    const int32_t block = tinyc_dw_flat_block(g, rb, nb, &sums_offset);
    memset(rows, p->input_zp, (size_t)(nb * rb));
    for (n = 0; n < g->input.n; n++) {
        const int8_t *xn = x + (size_t)n * channels * in_plane;
        int8_t *yn = y + (size_t)n * g->output.c * out_plane;
        for (oc = 0; oc < g->output.c; oc++) {
            const tinyc_conv_fastq q = tinyc_conv_fastq_of_s8(p, bias, oc, p->input_zp * p->weight_sums[oc]);
            const tinyc_dw_taps t = tinyc_dw_taps_of(w + (size_t)oc * 9);
            const int8_t *xc = xn + (size_t)(oc / mult) * in_plane;
            if (block > 0) {
                tinyc_dw_3x3_flat_dsp(p, xc, &t, &q, yn + (size_t)oc * out_plane, rows,
                                      (int32_t *)(void *)(rows + sums_offset), block);
            } else {
                tinyc_dw_3x3_plane_dsp(p, xc, &t, &q, yn + (size_t)oc * out_plane, rows, rb, nb);
            }
        }
    }
#else
    (void)scratch;
    tinyc_depthwise_conv2d_s8(p, x, w, bias, y);
#endif
}

/* tinyc_depthwise_3x3_s8 with its scratch on the stack, for layers whose scratch is at most
 * TINYC_DW_STACK_BYTES (tinyc/ops/conv.py picks it): a small layer's scratch would otherwise add to the
 * arena at its peak (kws_dscnn's). The stack allowance covers it like pointwise's 1 KiB pair buffer. */
void tinyc_depthwise_3x3_small_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                                  const int32_t *bias, int8_t *y)
{
#if TINYC_HAS_MVE
    int32_t buf[TINYC_DW_STACK_BYTES / 4];
    tinyc_dw_3x3_helium_s8(p, x, w, bias, y, buf, (int32_t)sizeof buf);  /* all of it: bigger chunks */
#elif TINYC_HAS_DSP
    int32_t buf[TINYC_DW_STACK_BYTES / 4];
    tinyc_depthwise_3x3_s8(p, x, w, bias, y, buf);
#else
    tinyc_depthwise_conv2d_s8(p, x, w, bias, y);
#endif
}

#if TINYC_HAS_DSP
/* Column scratch budget of tinyc_depthwise_cols_s8 (tinyc/ops/conv.py mirrors it). */
#define TINYC_DW_COLS_BYTES 1024

/* Words of one pixel's column: (K & ~3) / 2 int16 pairs, then K % 4 single taps (K = KH * KW). */
static int32_t tinyc_dw_col_words(const tinyc_conv_geometry *g)
{
    const int32_t k = g->kernel_h * g->kernel_w;
    return (k & ~3) / 2 + (k & 3);
}

/* Pixels per block: as many columns as the budget holds, at least 2, at most the plane (even). */
static int32_t tinyc_dw_col_pixels(const tinyc_conv_geometry *g)
{
    const int32_t plane = g->output.h * g->output.w, fit = TINYC_DW_COLS_BYTES / (4 * tinyc_dw_col_words(g));
    const int32_t n = fit < 2 ? 2 : (fit < plane ? fit : plane);
    return (n + 1) & ~1;
}

/* The column of output pixel (oy, ox) from input plane xc: its taps in (ky, kx) order, input_zp for
 * taps outside the input; per 4 taps the int16 pairs (t0, t2), (t1, t3), then the K % 4 last taps as
 * int32. The taps are first gathered as bytes into the column's own words, then widened in place
 * from the end (word g of the pairs reads bytes 4g..4g+3 < 8g, the bytes it overwrites). */
static void tinyc_dw_column(const tinyc_conv2d_s8_params *p, const int8_t *xc, int32_t oy, int32_t ox,
                            int32_t *col)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t k = g->kernel_h * g->kernel_w, k4 = k & ~3, kw = g->kernel_w, dw = g->dilation_w;
    const int32_t iy0 = oy * g->stride_h - g->pad_top, ix0 = ox * g->stride_w - g->pad_left;
    const int32_t inside_x = ix0 >= 0 && ix0 + (kw - 1) * dw < g->input.w;
    const int8_t zp = (int8_t)p->input_zp;
    int8_t *b = (int8_t *)(void *)col;
    int32_t ky, kx, i;
    for (ky = 0; ky < g->kernel_h; ky++, b += kw) {
        const int32_t iy = iy0 + ky * g->dilation_h;
        const int8_t *r = xc + iy * g->input.w + ix0;
        if (iy < 0 || iy >= g->input.h) {
            for (kx = 0; kx < kw; kx++) b[kx] = zp;
        } else if (inside_x) {
            for (kx = 0; kx < kw; kx++) b[kx] = r[kx * dw];
        } else {
            for (kx = 0; kx < kw; kx++) {
                const int32_t ix = ix0 + kx * dw;
                b[kx] = ix >= 0 && ix < g->input.w ? r[kx * dw] : zp;
            }
        }
    }
    b = (int8_t *)(void *)col;
    for (i = k - 1; i >= k4; i--) col[k4 / 2 + (i - k4)] = b[i];  /* last taps first: 4 bytes out, 1 in */
    for (i = k4 - 4; i >= 0; i -= 4) {
        const int32_t q = tinyc_load4(b + i);
        col[i / 2] = __sxtb16(q);
        col[i / 2 + 1] = tinyc_sxtb16_odd(q);
    }
}

/* 4 taps of the pixel pair (ca, cb): one weight word at wp, its int16 pairs against each column's two. */
#define TINYC_DW_COL_STEP(wp)                                                      \
    do {                                                                         \
        const int32_t ww_ = tinyc_load4(wp);                                \
        const int32_t we_ = __sxtb16(ww_), wo_ = tinyc_sxtb16_odd(ww_);     \
        int32_t u_, v_;                                                          \
        tinyc_conv_load_pair(&ca, &u_, &v_);                                     \
        a0 = __smlad(u_, we_, a0);                                               \
        a0 = __smlad(v_, wo_, a0);                                               \
        tinyc_conv_load_pair(&cb, &u_, &v_);                                     \
        a1 = __smlad(u_, we_, a1);                                               \
        a1 = __smlad(v_, wo_, a1);                                               \
    } while (0)

/* Any depthwise geometry: per input channel, blocks of output pixels are gathered into int16-pair
 * columns once, then every output channel of that input channel (the multiplier's) takes 2 pixels
 * per step: per 4 taps one weight word, 2 SMLADs per pixel. */
static void tinyc_dw_cols_dsp(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                              const int32_t *bias, int8_t *y, int32_t *cols)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t k = g->kernel_h * g->kernel_w, k4 = k & ~3, cw = tinyc_dw_col_words(g);
    const int32_t np = tinyc_dw_col_pixels(g), mult = g->output.c / g->input.c;
    const int32_t in_plane = g->input.h * g->input.w, out_plane = g->output.h * g->output.w;
    int32_t *sums = cols + np * cw;
    int32_t n, c, m, px, j, i;
    for (n = 0; n < g->input.n; n++) {
        for (c = 0; c < g->input.c; c++) {
            const int8_t *xc = x + ((size_t)n * g->input.c + c) * in_plane;
            for (px = 0; px < out_plane; px += np) {
                const int32_t cnt = out_plane - px < np ? out_plane - px : np;
                for (j = 0; j < cnt; j++) {
                    tinyc_dw_column(p, xc, (px + j) / g->output.w, (px + j) % g->output.w, cols + j * cw);
                }
                for (m = 0; m < mult; m++) {
                    const int32_t oc = c * mult + m;
                    const int8_t *wc = w + (size_t)oc * k;
                    const tinyc_conv_fastq q = tinyc_conv_fastq_of_s8(p, bias, oc, p->input_zp * p->weight_sums[oc]);
                    for (j = 0; j < cnt; j += 2) {  /* an odd count's last pair reads a stale column */
                        const int32_t *ca = cols + j * cw, *cb = ca + cw;
                        int32_t a0 = 0, a1 = 0;
                        for (i = 0; i + 8 <= k4; i += 8) {
                            TINYC_DW_COL_STEP(wc + i);
                            TINYC_DW_COL_STEP(wc + i + 4);
                        }
                        if (i < k4) {
                            TINYC_DW_COL_STEP(wc + i);
                            i += 4;
                        }
                        for (; i < k; i++) {  /* K % 4 single taps */
                            a0 += *ca++ * wc[i];
                            a1 += *cb++ * wc[i];
                        }
                        sums[j] = a0;
                        sums[j + 1] = a1;
                    }
                    tinyc_conv_fastq_row_s8(&q, sums, y + ((size_t)n * g->output.c + oc) * out_plane + px, cnt, 1);
                }
            }
        }
    }
}
#endif

#if TINYC_HAS_MVE
/* The Helium form of tinyc_dw_cols_dsp, in the same scratch: per input channel, blocks of P output pixels
 * (P as the DSP path's) gathered as byte columns of KP = K rounded up to 16 bytes (taps in (ky, kx) order,
 * input_zp outside x), then each of the multiplier's output channels takes one VMLADAVA per 16 taps and
 * pixel (its weights' last vector tail predicated: zero lanes past K, so the column bytes there never
 * count), and its P sums are requantized four at a time. Needs KP + 4 <= 4 (C + 1) bytes a pixel (K >= 9). */
static int tinyc_dw_cols_mve_fits(const tinyc_conv_geometry *g)
{
    const int32_t k = g->kernel_h * g->kernel_w;
    return ((k + 15) & ~15) + 4 <= 4 * (tinyc_dw_col_words(g) + 1);
}

static void tinyc_dw_cols_mve_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                                 const int32_t *bias, int8_t *y, int8_t *cols)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t k = g->kernel_h * g->kernel_w, kp = (k + 15) & ~15, kw = g->kernel_w, dw = g->dilation_w;
    const int32_t np = tinyc_dw_col_pixels(g), mult = g->output.c / g->input.c, out_w = g->output.w;
    const int32_t in_plane = g->input.h * g->input.w, out_plane = g->output.h * out_w;
    const int8_t zp = (int8_t)p->input_zp;
    int32_t *sums = (int32_t *)(void *)(cols + np * kp);
    int32_t n, c, m, px, j, i, ky, kx;
    memset(cols, 0, (size_t)(np * kp));  /* the bytes past K of every column stay finite */
    for (n = 0; n < g->input.n; n++) {
        for (c = 0; c < g->input.c; c++) {
            const int8_t *xc = x + ((size_t)n * g->input.c + c) * in_plane;
            for (px = 0; px < out_plane; px += np) {
                const int32_t cnt = out_plane - px < np ? out_plane - px : np;
                for (j = 0; j < cnt; j++) {
                    const int32_t iy0 = ((px + j) / out_w) * g->stride_h - g->pad_top;
                    const int32_t ix0 = ((px + j) % out_w) * g->stride_w - g->pad_left;
                    int8_t *b = cols + j * kp;
                    for (ky = 0; ky < g->kernel_h; ky++, b += kw) {
                        const int32_t iy = iy0 + ky * g->dilation_h;
                        for (kx = 0; kx < kw; kx++) {
                            const int32_t ix = ix0 + kx * dw;
                            b[kx] = iy >= 0 && iy < g->input.h && ix >= 0 && ix < g->input.w
                                ? xc[iy * g->input.w + ix] : zp;
                        }
                    }
                }
                for (m = 0; m < mult; m++) {
                    const int32_t oc = c * mult + m;
                    const int8_t *wc = w + (size_t)oc * k;
                    const tinyc_mve_outq q = tinyc_mve_outq_of(p, bias, oc, p->input_zp * p->weight_sums[oc]);
                    if (kp <= 48) {  /* K <= 48 (3x3 to 7x7, 10x4): the weights stay in three registers */
                        const int8x16_t v0 = vldrbq_z_s8(wc, vctp8q((uint32_t)k));
                        const int8x16_t v1 = kp > 16 ? vldrbq_z_s8(wc + 16, vctp8q((uint32_t)(k - 16))) : vdupq_n_s8(0);
                        const int8x16_t v2 = kp > 32 ? vldrbq_z_s8(wc + 32, vctp8q((uint32_t)(k - 32))) : vdupq_n_s8(0);
                        const int8_t *col = cols;
                        for (j = 0; j < cnt; j++, col += kp) {
                            int32_t acc = vmladavq_s8(vldrbq_s8(col), v0);
                            if (kp > 16) {
                                acc = vmladavaq_s8(acc, vldrbq_s8(col + 16), v1);
                            }
                            if (kp > 32) {
                                acc = vmladavaq_s8(acc, vldrbq_s8(col + 32), v2);
                            }
                            sums[j] = acc;
                        }
                    } else {
                        for (j = 0; j < cnt; j++) {
                            const int8_t *col = cols + j * kp;
                            int32_t acc = 0;
                            for (i = 0; i < kp; i += 16) {
                                acc = vmladavaq_s8(acc, vldrbq_s8(col + i),
                                                   vldrbq_z_s8(wc + i, vctp8q((uint32_t)(k - i))));
                            }
                            sums[j] = acc;
                        }
                    }
                    tinyc_mve_row(&q, sums, y + ((size_t)n * g->output.c + oc) * out_plane + px, cnt);
                }
            }
        }
    }
}
#endif

/* Any depthwise geometry, int8: shapes and result as tinyc_depthwise_conv2d_s8. DSP: blocks of P output
 * pixels gathered into columns of C words (C = (K & ~3) / 2 + K % 4, K = KH * KW; P = 1024 / (4 * C),
 * at least 2, at most OH * OW, rounded up to even), shared by the multiplier's output channels, and P
 * int32 sums. Portable: tinyc_depthwise_conv2d_s8. Scratch: 4 * P * (C + 1) bytes (both builds). */
void tinyc_depthwise_cols_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                             const int32_t *bias, int8_t *y, void *scratch)
{
#if TINYC_HAS_MVE
    if (tinyc_dw_cols_mve_fits(&p->geom)) {
        tinyc_dw_cols_mve_s8(p, x, w, bias, y, (int8_t *)scratch);
        return;
    }
#endif
#if TINYC_HAS_DSP
    tinyc_dw_cols_dsp(p, x, w, bias, y, (int32_t *)scratch);
#else
    (void)scratch;
    tinyc_depthwise_conv2d_s8(p, x, w, bias, y);
#endif
}

/* tinyc_depthwise_cols_s8 with its scratch (at most TINYC_DW_STACK_BYTES + 256) on the stack, picked by
 * tinyc/ops/conv.py for small layers, as tinyc_depthwise_3x3_small_s8. */
void tinyc_depthwise_cols_small_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                                   const int32_t *bias, int8_t *y)
{
#if TINYC_HAS_DSP
    int32_t buf[(TINYC_DW_STACK_BYTES + 256) / 4];
    tinyc_depthwise_cols_s8(p, x, w, bias, y, buf);
#else
    tinyc_depthwise_conv2d_s8(p, x, w, bias, y);
#endif
}

/* As tinyc_depthwise_conv2d_s8 in float32; bias float (Co) or NULL. Scratch: 0. */
void tinyc_depthwise_conv2d_f32(const tinyc_conv2d_f32_params *p, const float *x, const float *w,
                                const float *bias, float *y)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t in_h = g->input.h, in_w = g->input.w, out_h = g->output.h, out_w = g->output.w;
    const int32_t kh = g->kernel_h, kw = g->kernel_w, dh = g->dilation_h, dw = g->dilation_w;
    const int32_t channels = g->input.c, mult = g->output.c / g->input.c;
    const int32_t in_plane = in_h * in_w, out_plane = out_h * out_w;
    int32_t n, oy, ox, c, m, ky, kx;

    for (n = 0; n < g->input.n; n++) {
        const float *xn = x + (size_t)n * channels * in_plane;
        float *yn = y + (size_t)n * g->output.c * out_plane;
        for (oy = 0; oy < out_h; oy++) {
            const int32_t iy0 = oy * g->stride_h - g->pad_top;
            int32_t ky_lo, ky_hi;
            tinyc_conv_taps(iy0, in_h, kh, dh, &ky_lo, &ky_hi);
            for (ox = 0; ox < out_w; ox++) {
                const int32_t ix0 = ox * g->stride_w - g->pad_left;
                const int32_t y_offset = oy * out_w + ox;
                int32_t kx_lo, kx_hi, taps_w, x_start;
                tinyc_conv_taps(ix0, in_w, kw, dw, &kx_lo, &kx_hi);
                taps_w = kx_hi > kx_lo ? kx_hi - kx_lo : 0;
                x_start = taps_w > 0 ? ix0 + kx_lo * dw : 0;  /* never point outside x or w */
                kx_lo = taps_w > 0 ? kx_lo : 0;
                for (c = 0; c < channels; c++) {
                    const float *xc = xn + (size_t)c * in_plane + x_start;
                    for (m = 0; m < mult; m++) {
                        const int32_t oc = c * mult + m;
                        const float *wc = w + (size_t)oc * kh * kw + kx_lo;
                        float acc = bias ? bias[oc] : 0.0f;
                        for (ky = ky_lo; ky < ky_hi; ky++) {
                            const float *xr = xc + (iy0 + ky * dh) * in_w;
                            const float *wr = wc + ky * kw;
                            for (kx = 0; kx < taps_w; kx++) {
                                acc += xr[kx * dw] * wr[kx];
                            }
                        }
                        yn[(size_t)oc * out_plane + y_offset] = tinyc_clamp_f32_value(acc, p->clamp);
                    }
                }
            }
        }
    }
}
