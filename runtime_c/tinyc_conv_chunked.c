/* tinyc_conv_chunked.c: the int8 general conv for cores with Helium (tinyc_conv2d_chunked_s8; the layout in
 * tinyc_conv_chunked.h). Helium: pixels in batches, their columns by byte gathers, 4 output channels x 2 pixels
 * per 16-byte chunk with 4 weight loads, 2 column loads and 8 VMLADAVA, 4-lane requantization. Without
 * Helium (a host build of the same C, +nomve): SMLAD or plain C over the same layout, the same bits. */
#include "tinyc_conv_chunked.h"
#include "tinyc_conv_mve.h"

/* What the column fills need of one group, computed once per call. */
typedef struct {
    const int8_t *xg;  /* the group's first input plane */
    int32_t in_h, in_w, in_plane, kh, kw, dh, dw, cin_g, k;
    int32_t row_step;    /* dh * in_w: from one kernel row to the next */
    int32_t plane_step;  /* in_plane - kh * row_step: from past the last kernel row to the next plane */
    int16_t zp;
} tinyc_chunked_cols;

/* Per pixel its column of k_padded bytes in k order, one pixel's TINYC_CONV_CHUNKED_COL bytes after the
 * last's (16 bytes of slack after each: a vector store of a row may spill past K). */
#define TINYC_CONV_CHUNKED_COL(kp) ((kp) + TINYC_CONV_CHUNK)

/* The column of the window at (iy0, ix0) in k order into col[0..K), any geometry: taps outside x hold zp
 * (a window inside x: its rows copied). */
static void tinyc_conv_chunked_col_s8(const tinyc_chunked_cols *c, int32_t iy0, int32_t ix0, int8_t *col)
{
    const int8_t zp = (int8_t)c->zp;
    int32_t ic, ky, kx;
    if (c->dw == 1 && iy0 >= 0 && ix0 >= 0 && iy0 + (c->kh - 1) * c->dh < c->in_h && ix0 + c->kw <= c->in_w) {
        const int8_t *xr = c->xg + iy0 * c->in_w + ix0;
        for (ic = 0; ic < c->cin_g; ic++, xr += c->plane_step) {
            for (ky = 0; ky < c->kh; ky++, xr += c->row_step) {
                for (kx = 0; kx < c->kw; kx++) {  /* a few bytes: a loop, not a memcpy call */
                    *col++ = xr[kx];
                }
            }
        }
        return;
    }
    for (ic = 0; ic < c->cin_g; ic++) {
        const int8_t *xc = c->xg + (size_t)ic * c->in_plane;
        for (ky = 0; ky < c->kh; ky++) {
            const int32_t iy = iy0 + ky * c->dh;
            for (kx = 0; kx < c->kw; kx++) {
                const int32_t ix = ix0 + kx * c->dw;
                *col++ = iy >= 0 && iy < c->in_h && ix >= 0 && ix < c->in_w ? xc[iy * c->in_w + ix] : zp;
            }
        }
    }
}

/* The group geometry the column fills need. */
static void tinyc_conv_chunked_cols_of(const tinyc_conv2d_im2col_s8_params *p, tinyc_chunked_cols *c)
{
    const tinyc_conv_geometry *g = &p->geom;
    c->in_h = g->input.h;
    c->in_w = g->input.w;
    c->in_plane = c->in_h * c->in_w;
    c->kh = g->kernel_h;
    c->kw = g->kernel_w;
    c->dh = g->dilation_h;
    c->dw = g->dilation_w;
    c->cin_g = g->input.c / g->groups;
    c->k = c->cin_g * c->kh * c->kw;
    c->row_step = c->dh * c->in_w;
    c->plane_step = c->in_plane - c->kh * c->row_step;
    c->zp = (int16_t)p->input_zp;
}

/* The output constants of the params (tinyc_conv_fastq_of_s8 reads them from tinyc_conv2d_s8_params). */
static void tinyc_conv_chunked_outq_of(const tinyc_conv2d_im2col_s8_params *p, tinyc_conv2d_s8_params *q)
{
    q->geom = p->geom;
    q->input_zp = p->input_zp;
    q->output_zp = p->output_zp;
    q->requant = p->requant;
    q->clamp = p->clamp;
    q->weight_sums = p->weight_sums;
}

/* Channel oc's outputs of raw sums s0, s1 into yp[0] and, when two, yp[1]. */
static void tinyc_conv_chunked_out2_s8(const tinyc_conv2d_s8_params *q, const int32_t *bias, int32_t oc, int32_t s0,
                                       int32_t s1, int8_t *yp, int two)
{
    const tinyc_conv_fastq f = tinyc_conv_fastq_of_s8(q, bias, oc, q->input_zp * q->weight_sums[oc]);
    yp[0] = tinyc_conv_fastq_s8(&f, s0);
    if (two) {
        yp[1] = tinyc_conv_fastq_s8(&f, s1);
    }
}

#if TINYC_HAS_MVE
/* Pixel (iy0, ix0)'s column into col (dw = 1, KW <= 16, KH <= 16): per kernel row one predicated load, the
 * lanes of taps outside x (or of a row outside x: no lane read) zp, one 16-byte store (the next row's
 * overwrites the rest; the last row's spill lands in [K, k_padded), whose weights are 0, and the slack).
 * Addresses outside x are formed but never read. */
static void tinyc_conv_chunked_mve_col_s8(const tinyc_chunked_cols *c, int32_t iy0, int32_t ix0, int8_t *col)
{
    const int8x16_t zp = vdupq_n_s8((int8_t)c->zp);
    const int32_t kw = c->kw, kh = c->kh;
    mve_pred16_t pr[16], taps;
    int32_t lo, hi, ic, ky;
    tinyc_conv_taps(ix0, c->in_w, kw, 1, &lo, &hi);
    taps = lo < hi ? (mve_pred16_t)(vctp8q((uint32_t)hi) & ~vctp8q((uint32_t)lo)) : 0;
    tinyc_conv_taps(iy0, c->in_h, kh, c->dh, &lo, &hi);
    for (ky = 0; ky < kh; ky++) {
        pr[ky] = ky >= lo && ky < hi ? taps : 0;
    }
    for (ic = 0; ic < c->cin_g; ic++) {
        uintptr_t r = (uintptr_t)(c->xg + (size_t)ic * c->in_plane) + (uintptr_t)(iy0 * c->in_w + ix0);
        for (ky = 0; ky < kh; ky++) {
            vst1q_s8(col, vpselq_s8(vldrbq_z_s8((const int8_t *)r, pr[ky]), zp, pr[ky]));
            col += kw;
            r += (uintptr_t)c->row_step;
        }
    }
}

/* The byte offsets of a window's KH x KW taps from its first (lane ky * KW + kx; the lanes past KH * KW 0),
 * when they fit a byte gather: KH * KW <= 16 and the last tap < 256 bytes from the first; else 0. */
static int tinyc_conv_chunked_gather_of(const tinyc_chunked_cols *c, uint8x16_t *offsets)
{
    uint8_t o[16] = {0};
    int32_t ky, kx;
    if (c->kh * c->kw > 16 || (c->kh - 1) * c->row_step + (c->kw - 1) * c->dw > 255) {
        return 0;
    }
    for (ky = 0; ky < c->kh; ky++) {
        for (kx = 0; kx < c->kw; kx++) {
            o[ky * c->kw + kx] = (uint8_t)(ky * c->row_step + kx * c->dw);
        }
    }
    *offsets = vld1q_u8(o);
    return 1;
}

/* Pixel (iy0, ix0)'s column into col by one predicated byte gather per input channel (offsets from
 * tinyc_conv_chunked_gather_of): the lanes of taps outside x (never read) zp, one 16-byte store per
 * channel (the next channel's overwrites the rest; the last one's spill lands in [K, k_padded), whose
 * weights are 0, and the slack). all: the predicate of a window inside x. */
static void tinyc_conv_chunked_gather_col_s8(const tinyc_chunked_cols *c, uint8x16_t offsets, mve_pred16_t all,
                                             int32_t iy0, int32_t ix0, int8_t *col)
{
    const int32_t taps = c->kh * c->kw, in_plane = c->in_plane;  /* in locals: the stores to col may alias c */
    uintptr_t r = (uintptr_t)c->xg + (uintptr_t)(iy0 * c->in_w + ix0);
    int32_t ic = c->cin_g;
    if (iy0 >= 0 && ix0 >= 0 && iy0 + (c->kh - 1) * c->dh < c->in_h && ix0 + (c->kw - 1) * c->dw < c->in_w) {
        for (; ic > 0; ic--, r += (uintptr_t)in_plane, col += taps) {  /* the lanes past the taps 0 */
            vst1q_s8(col, vldrbq_gather_offset_z_s8((const int8_t *)r, offsets, all));
        }
    } else {
        const int8x16_t zp = vdupq_n_s8((int8_t)c->zp);
        int32_t xlo, xhi, ylo, yhi, ky;
        uint32_t row = 0, bits = 0;
        mve_pred16_t live;
        tinyc_conv_taps(ix0, c->in_w, c->kw, c->dw, &xlo, &xhi);
        tinyc_conv_taps(iy0, c->in_h, c->kh, c->dh, &ylo, &yhi);
        if (xlo < xhi) {
            row = (1u << xhi) - (1u << xlo);
        }
        for (ky = ylo; ky < yhi; ky++) {
            bits |= row << (ky * c->kw);
        }
        live = (mve_pred16_t)bits;
        for (; ic > 0; ic--, r += (uintptr_t)in_plane, col += taps) {
            vst1q_s8(col, vpselq_s8(vldrbq_gather_offset_z_s8((const int8_t *)r, offsets, live), zp, live));
        }
    }
}

/* Sums s[4 j + i] of channel i of a block of 4 (weights w, chunked) x pixel j of 2 (columns c0, c1) over
 * `chunks` >= 1 16-byte chunks: per chunk 4 weight loads, 2 column loads, 8 VMLADAVA. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void tinyc_conv_chunked_sums_4x2(const int8_t *w, const int8_t *c0, const int8_t *c1, int32_t chunks,
                                               int32_t *s)
{
#if defined(__GNUC__) && defined(__OPTIMIZE__) && !defined(__OPTIMIZE_SIZE__) && defined(TINYC_MVE_ASM)
    /* TINYC_MVE_ASM (the board's flags; as tinyc_conv.c's asm loop): VMLADAVA writes even registers only, all
     * eight here, the first chunk's VMLADAV sets them, one STM stores them in s's order; its four pointers and
     * counter need five odd registers, which -Os does not leave it */
#define TINYC_CONV_CHUNK_ASM(OP)                                                                  \
    "vldrb.u8 q1, [%[w], #16]\n\t"                                                                \
    "vldrb.u8 q2, [%[w], #32]\n\t"                                                                \
    "vldrb.u8 q3, [%[w], #48]\n\t"                                                                \
    "vldrb.u8 q0, [%[w]], #64\n\t"                                                                \
    "vldrb.u8 q4, [%[c0]], #16\n\t"                                                               \
    "vldrb.u8 q5, [%[c1]], #16\n\t"                                                               \
    OP " r0, q0, q4\n\t"                                                                          \
    OP " r2, q1, q4\n\t"                                                                          \
    OP " r4, q2, q4\n\t"                                                                          \
    OP " r6, q3, q4\n\t"                                                                          \
    OP " r8, q0, q5\n\t"                                                                          \
    OP " r10, q1, q5\n\t"                                                                         \
    OP " r12, q2, q5\n\t"                                                                         \
    OP " lr, q3, q5\n\t"                                                                          \
    "subs %[n], %[n], #1\n\t"
    __asm__ volatile(
        TINYC_CONV_CHUNK_ASM("vmladav.s8")
        "beq 2f\n"
        "1:\n\t"
        TINYC_CONV_CHUNK_ASM("vmladava.s8")
        "bne 1b\n"
        "2:\n\t"
        "stm %[s], {r0, r2, r4, r6, r8, r10, r12, lr}"
        : [w] "+r"(w), [c0] "+r"(c0), [c1] "+r"(c1), [n] "+r"(chunks)
        : [s] "r"(s)
        : "r0", "r2", "r4", "r6", "r8", "r10", "r12", "lr", "q0", "q1", "q2", "q3", "q4", "q5", "memory", "cc");
#undef TINYC_CONV_CHUNK_ASM
#else
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    for (; chunks > 0; chunks--, w += 4 * TINYC_CONV_CHUNK, c0 += TINYC_CONV_CHUNK, c1 += TINYC_CONV_CHUNK) {
        const int8x16_t v0 = vldrbq_s8(w), v1 = vldrbq_s8(w + 16), v2 = vldrbq_s8(w + 32), v3 = vldrbq_s8(w + 48);
        const int8x16_t x0 = vldrbq_s8(c0), x1 = vldrbq_s8(c1);
        a0 = vmladavaq_s8(a0, v0, x0);
        a1 = vmladavaq_s8(a1, v1, x0);
        a2 = vmladavaq_s8(a2, v2, x0);
        a3 = vmladavaq_s8(a3, v3, x0);
        b0 = vmladavaq_s8(b0, v0, x1);
        b1 = vmladavaq_s8(b1, v1, x1);
        b2 = vmladavaq_s8(b2, v2, x1);
        b3 = vmladavaq_s8(b3, v3, x1);
    }
    s[0] = a0;
    s[1] = a1;
    s[2] = a2;
    s[3] = a3;
    s[4] = b0;
    s[5] = b1;
    s[6] = b2;
    s[7] = b3;
#endif
}

/* Pixel px's column (of the group in c) into col, by the fastest fill the geometry allows. Not inlined: the
 * fills' frames stay out of the caller's. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_conv_chunked_mve_fill_s8(const tinyc_conv2d_im2col_s8_params *p, const tinyc_chunked_cols *c,
                                           int32_t px, int gather, uint8x16_t offsets, mve_pred16_t all, int8_t *col)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t iy0 = (px / g->output.w) * g->stride_h - g->pad_top;
    const int32_t ix0 = (px % g->output.w) * g->stride_w - g->pad_left;
    if (gather) {
        tinyc_conv_chunked_gather_col_s8(c, offsets, all, iy0, ix0, col);
    } else if (c->dw == 1 && c->kw <= 16 && c->kh <= 16) {
        tinyc_conv_chunked_mve_col_s8(c, iy0, ix0, col);
    } else {
        tinyc_conv_chunked_col_s8(c, iy0, ix0, col);
    }
}

/* A block of 4 output channels (from oc, weights w) x the npx pixels of the columns col (cs bytes apart) into
 * yp[0 .. npx) of the 4 channels' planes: the sums of pixel pairs (an odd last pixel twice: its copy's sums
 * unused) as lanes, requantized with the block's output constants read once, stored out_plane apart. Not
 * inlined: its vector spills stay in its own frame. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_conv_chunked_block_s8(const tinyc_conv2d_im2col_s8_params *p, const int32_t *bias, int32_t oc,
                                        const int8_t *w, const int8_t *col, int32_t cs, int32_t npx, int8_t *yp)
{
    const int32_t chunks = p->k_padded / TINYC_CONV_CHUNK, out_plane = p->geom.output.h * p->geom.output.w;
    const uint32x4_t planes4 = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)out_plane);
    const tinyc_mve_outq4 q4 = tinyc_mve_outq4_of(p->requant.multiplier + oc, p->requant.shift + oc,
                                                  p->weight_sums + oc, bias ? bias + oc : NULL, p->input_zp,
                                                  p->output_zp, p->clamp);
    int32_t sums[4 * TINYC_CONV_CHUNKED_PIXELS], j;
    for (j = 0; j < npx; j += 2) {
        const int8_t *c0 = col + j * cs;
        tinyc_conv_chunked_sums_4x2(w, c0, j + 1 < npx ? c0 + cs : c0, chunks, sums + 4 * j);
    }
    for (j = 0; j < npx; j++) {
        vstrbq_scatter_offset_s32(yp + j, planes4, tinyc_mve_requantize4(&q4, vldrwq_s32(sums + 4 * j)));
    }
}

/* tinyc_conv2d_chunked_s8 on Helium: output pixels in raster order `pixels` (even, at most
 * TINYC_CONV_CHUNKED_PIXELS) at a time, their columns in col (cs bytes apart), then tinyc_conv_chunked_block_s8
 * per block of 4 output channels and the last Co/g % 4 channels one at a time (an odd last pixel paired with
 * itself, its copy's outputs dropped). Not inlined: its frame stays its own. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_conv_chunked_mve_run_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x,
                                          const int32_t *bias, int8_t *y, int8_t *col, int32_t pixels)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t kp = p->k_padded, cs = TINYC_CONV_CHUNKED_COL(kp);
    const int32_t groups = g->groups, cout_g = g->output.c / groups, blocks4 = cout_g >> 2;
    const int32_t out_plane = g->output.h * g->output.w;
    tinyc_chunked_cols c;
    tinyc_conv2d_s8_params q;
    int32_t n, grp, px, b, m, j, npx;
    uint8x16_t offsets = vdupq_n_u8(0);
    int gather;
    mve_pred16_t all;
    tinyc_conv_chunked_cols_of(p, &c);
    tinyc_conv_chunked_outq_of(p, &q);
    gather = tinyc_conv_chunked_gather_of(&c, &offsets);
    all = gather ? (mve_pred16_t)((1u << (c.kh * c.kw)) - 1u) : 0;  /* KH * KW <= 16 when gather */
    memset(col, 0, (size_t)(pixels * cs));
    for (n = 0; n < g->input.n; n++) {
        for (grp = 0; grp < groups; grp++) {
            const int8_t *wg = (const int8_t *)(const void *)p->weights + (size_t)grp * cout_g * kp;
            int8_t *yg = y + ((size_t)n * g->output.c + (size_t)grp * cout_g) * out_plane;
            c.xg = x + ((size_t)n * g->input.c + (size_t)grp * c.cin_g) * c.in_plane;
            for (px = 0; px < out_plane; px += npx) {
                const int8_t *w = wg;
                int8_t *yp = yg + px;
                npx = out_plane - px < pixels ? out_plane - px : pixels;
                for (j = 0; j < npx; j++) {
                    tinyc_conv_chunked_mve_fill_s8(p, &c, px + j, gather, offsets, all, col + j * cs);
                }
                for (b = 0; b < blocks4; b++, w += 4 * kp, yp += 4 * out_plane) {
                    tinyc_conv_chunked_block_s8(p, bias, grp * cout_g + 4 * b, w, col, cs, npx, yp);
                }
                for (m = 4 * blocks4; m < cout_g; m++, w += kp, yp += out_plane) {
                    for (j = 0; j < npx; j += 2) {
                        const int two = j + 1 < npx;
                        const int8_t *c0 = col + j * cs, *c1 = two ? c0 + cs : c0;
                        int32_t a0 = 0, a1 = 0, t;
                        for (t = 0; t < kp; t += TINYC_CONV_CHUNK) {
                            const int8x16_t v = vldrbq_s8(w + t);
                            a0 = vmladavaq_s8(a0, v, vldrbq_s8(c0 + t));
                            a1 = vmladavaq_s8(a1, v, vldrbq_s8(c1 + t));
                        }
                        tinyc_conv_chunked_out2_s8(&q, bias, grp * cout_g + m, a0, a1, yp + j, two);
                    }
                }
            }
        }
    }
}
#endif

#if !TINYC_HAS_MVE
#if TINYC_HAS_DSP
/* Two pixels' columns ca, cb (k_padded bytes) as SMLAD operands, per 4 k: (ca[0], ca[2]), (ca[1], ca[3]),
 * (cb[0], cb[2]), (cb[1], cb[3]) as int16 pairs (SXTB16 and SXTB16 ROR 8 of the word). */
static void tinyc_conv_chunked_pairs_s8(const int8_t *ca, const int8_t *cb, int32_t kp, int32_t *e)
{
    int32_t k;
    for (k = 0; k < kp; k += 4, e += 4) {
        const int32_t a = tinyc_load4(ca + k), b = tinyc_load4(cb + k);
        e[0] = __sxtb16(a);
        e[1] = tinyc_sxtb16_odd(a);
        e[2] = __sxtb16(b);
        e[3] = tinyc_sxtb16_odd(b);
    }
}
#endif

#if TINYC_HAS_DSP
/* Sums s[2 i + j] of channel i < nm (1 or 2; channel 1's chunks 16 bytes after channel 0's) x pixel j of 2
 * (SMLAD pairs e) over `chunks` chunks, step bytes from one of a channel's chunks to the next. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void tinyc_conv_chunked_dot_s8(const int8_t *wm, int32_t step, int32_t nm, const int32_t *e,
                                             int32_t chunks, int32_t s[4])
{
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, t, j;
    for (t = 0; t < chunks; t++, wm += step) {
        const int32_t *w4 = (const int32_t *)(const void *)wm;  /* 16-byte chunks of an int32 array: aligned */
        for (j = 0; j < 4; j++, e += 4) {
            const int32_t v = w4[j], lo = __sxtb16(v), hi = tinyc_sxtb16_odd(v);
            const int32_t e0 = e[0], e1 = e[1], e2 = e[2], e3 = e[3];
            s0 = __smlad(lo, e0, s0);
            s0 = __smlad(hi, e1, s0);
            s1 = __smlad(lo, e2, s1);
            s1 = __smlad(hi, e3, s1);
            if (nm == 2) {
                const int32_t u = w4[j + 4], ulo = __sxtb16(u), uhi = tinyc_sxtb16_odd(u);
                s2 = __smlad(ulo, e0, s2);
                s2 = __smlad(uhi, e1, s2);
                s3 = __smlad(ulo, e2, s3);
                s3 = __smlad(uhi, e3, s3);
            }
        }
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
}
#endif

/* tinyc_conv2d_chunked_s8 without Helium: pixels two at a time (a lone last one paired with itself, its
 * copy's outputs dropped), their columns in col (cs bytes apart; with DSP, their SMLAD pairs after them),
 * then one output channel at a time over the chunked layout (a block channel's 16-byte chunks 64 bytes
 * apart, a last channel's contiguous): SMLAD per two k and pixel, or plain C. The same sums. */
static void tinyc_conv_chunked_run_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias,
                                      int8_t *y, int8_t *col)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t kp = p->k_padded, cs = TINYC_CONV_CHUNKED_COL(kp), chunks = kp / TINYC_CONV_CHUNK;
    const int32_t groups = g->groups, cout_g = g->output.c / groups, blocks4 = cout_g >> 2;
    const int32_t out_w = g->output.w, out_plane = g->output.h * out_w;
    int8_t *cb = col + cs;
    tinyc_chunked_cols c;
    tinyc_conv2d_s8_params q;
    int32_t n, grp, px, m, t, nm;
    tinyc_conv_chunked_cols_of(p, &c);
    tinyc_conv_chunked_outq_of(p, &q);
    memset(col, 0, (size_t)(2 * cs));  /* k in [K, k_padded) stay 0 */
    for (n = 0; n < g->input.n; n++) {
        for (grp = 0; grp < groups; grp++) {
            const int8_t *wg = (const int8_t *)(const void *)p->weights + (size_t)grp * cout_g * kp;
            int8_t *yg = y + ((size_t)n * g->output.c + (size_t)grp * cout_g) * out_plane;
            c.xg = x + ((size_t)n * g->input.c + (size_t)grp * c.cin_g) * c.in_plane;
            for (px = 0; px < out_plane; px += 2) {
                const int two = px + 1 < out_plane;
                const int32_t pb = two ? px + 1 : px;
#if TINYC_HAS_DSP
                int32_t *e = (int32_t *)(void *)(col + 2 * cs);
#endif
                tinyc_conv_chunked_col_s8(&c, (px / out_w) * g->stride_h - g->pad_top,
                                          (px % out_w) * g->stride_w - g->pad_left, col);
                tinyc_conv_chunked_col_s8(&c, (pb / out_w) * g->stride_h - g->pad_top,
                                          (pb % out_w) * g->stride_w - g->pad_left, cb);
#if TINYC_HAS_DSP
                tinyc_conv_chunked_pairs_s8(col, cb, kp, e);
#endif
                for (m = 0; m < cout_g; m += nm) {
                    const int block = m < 4 * blocks4;
                    const int32_t step = block ? 4 * TINYC_CONV_CHUNK : TINYC_CONV_CHUNK;
                    const int8_t *wm = block ? wg + (size_t)(m >> 2) * 4 * kp + (m & 3) * TINYC_CONV_CHUNK
                                             : wg + (size_t)m * kp;
                    int32_t s[4] = {0, 0, 0, 0};  /* channel i's pixel j at s[2 i + j] */
#if TINYC_HAS_DSP
                    nm = block ? 2 : 1;  /* a block's channels m, m + 1: their chunks 16 bytes apart */
                    if (block) {  /* nm a constant in each copy */
                        tinyc_conv_chunked_dot_s8(wm, step, 2, e, chunks, s);
                    } else {
                        tinyc_conv_chunked_dot_s8(wm, step, 1, e, chunks, s);
                    }
#else
                    const int8_t *ka = col, *kb = cb;
                    nm = 1;
                    for (t = 0; t < chunks; t++, wm += step, ka += TINYC_CONV_CHUNK, kb += TINYC_CONV_CHUNK) {
                        int32_t i;
                        for (i = 0; i < TINYC_CONV_CHUNK; i++) {
                            s[0] += wm[i] * ka[i];
                            s[1] += wm[i] * kb[i];
                        }
                    }
#endif
                    for (t = 0; t < nm; t++) {
                        tinyc_conv_chunked_out2_s8(&q, bias, grp * cout_g + m + t, s[2 * t], s[2 * t + 1],
                                                   yg + (size_t)(m + t) * out_plane + px, two);
                    }
                }
            }
        }
    }
}

#endif

void tinyc_conv2d_chunked_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y,
                             void *scratch)
{
#if TINYC_HAS_MVE
    tinyc_conv_chunked_mve_run_s8(p, x, bias, y, (int8_t *)scratch, TINYC_CONV_CHUNKED_PIXELS);
#else
    tinyc_conv_chunked_run_s8(p, x, bias, y, (int8_t *)scratch);
#endif
}

void tinyc_conv2d_chunked_small_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias,
                                   int8_t *y)
{
    /* the columns in TINYC_CONV_CHUNKED_SMALL_BYTES: with the Helium frames near 1.3 KB of stack; without
     * Helium two pixels' columns and their SMLAD pairs (6 k_padded + 32 bytes) */
    int32_t col[(TINYC_HAS_MVE ? TINYC_CONV_CHUNKED_SMALL_BYTES
                               : 6 * TINYC_CONV_SMALLK + 2 * TINYC_CONV_CHUNK) / 4];
    TINYC_ASSERT(p->k_padded <= TINYC_CONV_SMALLK);
#if TINYC_HAS_MVE
    {
        int32_t pixels = TINYC_CONV_CHUNKED_SMALL_BYTES / TINYC_CONV_CHUNKED_COL(p->k_padded);
        pixels = pixels < TINYC_CONV_CHUNKED_PIXELS ? pixels & ~1 : TINYC_CONV_CHUNKED_PIXELS;
        tinyc_conv_chunked_mve_run_s8(p, x, bias, y, (int8_t *)(void *)col, pixels);
    }
#else
    tinyc_conv_chunked_run_s8(p, x, bias, y, (int8_t *)(void *)col);
#endif
}
