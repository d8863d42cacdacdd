/* tinyc_pointwise.c: 1x1 convolution, int8, with a DSP path (SMLAD on int16 pairs). */
#include "tinyc_pointwise.h"
#include "tinyc_conv_mve.h"
#include "tinyc_store4.h"

#if TINYC_HAS_MVE
/* Pixels per block of the Helium path: its transposed block is 8 * Ci bytes (the wide kernel's scratch,
 * or at most 1 KiB of stack for Ci <= 128). */
#define TINYC_PW_MVE_PX 8
#define TINYC_CONV_1X1_MVE_CI 128

/* Pixels [0, n) (n <= 8) of every input plane from xp into t, per plane one widening load of 8 pixels and
 * one byte scatter; pixels n..7 get 0. quads == 0: pixel-major (row p = pixel p's Ci bytes). quads (Ci % 16
 * == 0): pixel p's 16-byte chunk k at (p / 4) * 4 Ci + k * 64 + (p % 4) * 16, so a quad's four chunks k are
 * one 64-byte run. */
static void tinyc_pw_mve_transpose_s8(const int8_t *xp, int32_t plane, int32_t cin, int32_t n, int8_t *t, int quads)
{
    const uint16x8_t pix = vidupq_n_u16(0, 1);
    const uint16x8_t offsets = quads ? vaddq_u16(vmulq_n_u16(vshrq_n_u16(pix, 2), (uint16_t)(4 * cin)),
                                                 vshlq_n_u16(vandq_u16(pix, vdupq_n_u16(3)), 4))
                                     : vmulq_n_u16(pix, (uint16_t)cin);
    const mve_pred16_t live = vctp16q((uint32_t)n);
    const int32_t gap = quads ? 48 : 0;  /* quads: chunk k of ci at ci + 48 k */
    int32_t ci;
    for (ci = 0; ci < cin; ci++) {
        vstrbq_scatter_offset_s16(t + ci + (ci >> 4) * gap, offsets, vldrbq_z_s16(xp + (size_t)ci * plane, live));
    }
}

/* Raw sums of 2 output channels (w0, w1) x 4 pixels (quad q of tinyc_pw_mve_transpose_s8's quads) over
 * `chunks` >= 1 16-byte chunks: s0[i] = w0 . pixel i, s1[i] = w1 . pixel i. Per chunk 2 weight loads,
 * 4 quad loads, 8 VMLADAVA. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void tinyc_pw_mve_dot2x4(const int8_t *w0, const int8_t *w1, const int8_t *q, int32_t chunks,
                                       int32_t *s0, int32_t *s1)
{
#if defined(__GNUC__) && defined(__OPTIMIZE__) && !defined(__OPTIMIZE_SIZE__) && defined(TINYC_MVE_ASM)
    /* TINYC_MVE_ASM (as tinyc_conv_chunked_sums_4x2): VMLADAVA writes even registers only, all eight here,
     * the first chunk's VMLADAV sets them, two STMs store them; its six operands take the six odd registers */
#define TINYC_PW_DOT2X4_ASM(OP)                                                                   \
    "vldrb.u8 q4, [%[w0]], #16\n\t"                                                               \
    "vldrb.u8 q5, [%[w1]], #16\n\t"                                                               \
    "vldrb.u8 q1, [%[q], #16]\n\t"                                                                \
    "vldrb.u8 q2, [%[q], #32]\n\t"                                                                \
    "vldrb.u8 q3, [%[q], #48]\n\t"                                                                \
    "vldrb.u8 q0, [%[q]], #64\n\t"                                                                \
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
        TINYC_PW_DOT2X4_ASM("vmladav.s8")
        "beq 2f\n"
        "1:\n\t"
        TINYC_PW_DOT2X4_ASM("vmladava.s8")
        "bne 1b\n"
        "2:\n\t"
        "stm %[s0], {r0, r2, r4, r6}\n\t"
        "stm %[s1], {r8, r10, r12, lr}"
        : [w0] "+r"(w0), [w1] "+r"(w1), [q] "+r"(q), [n] "+r"(chunks)
        : [s0] "r"(s0), [s1] "r"(s1)
        : "r0", "r2", "r4", "r6", "r8", "r10", "r12", "lr", "q0", "q1", "q2", "q3", "q4", "q5", "memory", "cc");
#undef TINYC_PW_DOT2X4_ASM
#else
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    for (; chunks > 0; chunks--, w0 += 16, w1 += 16, q += 64) {
        const int8x16_t u = vldrbq_s8(w0), v = vldrbq_s8(w1);
        const int8x16_t x0 = vldrbq_s8(q), x1 = vldrbq_s8(q + 16), x2 = vldrbq_s8(q + 32), x3 = vldrbq_s8(q + 48);
        a0 = vmladavaq_s8(a0, x0, u);
        a1 = vmladavaq_s8(a1, x1, u);
        a2 = vmladavaq_s8(a2, x2, u);
        a3 = vmladavaq_s8(a3, x3, u);
        b0 = vmladavaq_s8(b0, x0, v);
        b1 = vmladavaq_s8(b1, x1, v);
        b2 = vmladavaq_s8(b2, x2, v);
        b3 = vmladavaq_s8(b3, x3, v);
    }
    s0[0] = a0;
    s0[1] = a1;
    s0[2] = a2;
    s0[3] = a3;
    s1[0] = b0;
    s1[1] = b1;
    s1[2] = b2;
    s1[3] = b3;
#endif
}

/* Raw sums of 2 output channels (w0, w1) x 2 pixels (rows xa, xb of the transposed block) over Ci, 16
 * input channels per VMLADAVA, the last Ci % 16 tail predicated (zero lanes): s0[j], s1[j] for w0, w1.
 * Four accumulators: VMLADAVA takes even registers only, and more of them spill. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void tinyc_pw_mve_dot2x2(const int8_t *w0, const int8_t *w1, const int8_t *xa, const int8_t *xb,
                                       int32_t cin, int32_t *s0, int32_t *s1)
{
    int32_t a0 = 0, a1 = 0, b0 = 0, b1 = 0, i;
    for (i = cin >> 4; i > 0; i--) {  /* pointer bumps: loads with write-back */
        const int8x16_t u = vldrbq_s8(w0), v = vldrbq_s8(w1), x = vldrbq_s8(xa), z = vldrbq_s8(xb);
        w0 += 16;
        w1 += 16;
        xa += 16;
        xb += 16;
        a0 = vmladavaq_s8(a0, x, u);
        b0 = vmladavaq_s8(b0, x, v);
        a1 = vmladavaq_s8(a1, z, u);
        b1 = vmladavaq_s8(b1, z, v);
    }
    if (cin & 15) {
        const mve_pred16_t tail = vctp8q((uint32_t)(cin & 15));
        const int8x16_t u = vldrbq_z_s8(w0, tail), v = vldrbq_z_s8(w1, tail);
        const int8x16_t x = vldrbq_z_s8(xa, tail), z = vldrbq_z_s8(xb, tail);
        a0 = vmladavaq_s8(a0, x, u);
        b0 = vmladavaq_s8(b0, x, v);
        a1 = vmladavaq_s8(a1, z, u);
        b1 = vmladavaq_s8(b1, z, v);
    }
    s0[0] = a0;
    s0[1] = a1;
    s1[0] = b0;
    s1[1] = b1;
}

/* Every output: blocks of P pixels (P = TINYC_PW_MVE_PX, or twice that when 16 * Ci fits the block)
 * transposed into t, then per 2 output channels the block's raw sums, 4 pixels at a time for Ci % 16 == 0
 * (tinyc_pw_mve_dot2x4; quads past n read the zero rows), else 2 (tinyc_pw_mve_dot2x2), requantized four
 * pixels at a time (a channel's pixels are contiguous in y; lanes past the plane are not stored). */
static void tinyc_pw_mve_s8(const tinyc_conv2d_s8_params *p, const int8_t *xn, const int8_t *w, const int32_t *bias,
                         int8_t *yn, int8_t *t, int32_t t_bytes)
{
    const int32_t cin = p->geom.input.c, cout = p->geom.output.c, plane = p->geom.input.h * p->geom.input.w;
    const int32_t blk = 2 * TINYC_PW_MVE_PX * cin <= t_bytes ? 2 * TINYC_PW_MVE_PX : TINYC_PW_MVE_PX;
    const int quads = (cin & 15) == 0;
    int32_t px, co, g;
    for (px = 0; px < plane; px += blk) {
        const int32_t n = plane - px < blk ? plane - px : blk;
        tinyc_pw_mve_transpose_s8(xn + px, plane, cin, n < TINYC_PW_MVE_PX ? n : TINYC_PW_MVE_PX, t, quads);
        if (blk > TINYC_PW_MVE_PX) {
            tinyc_pw_mve_transpose_s8(xn + px + TINYC_PW_MVE_PX, plane, cin, n > TINYC_PW_MVE_PX ? n - TINYC_PW_MVE_PX : 0,
                                   t + TINYC_PW_MVE_PX * cin, quads);
        }
        for (co = 0; co < cout; co += 2) {
            const int32_t co1 = co + 1 < cout ? co + 1 : co;  /* an odd last channel runs twice */
            const int8_t *w0 = w + (size_t)co * cin, *w1 = w + (size_t)co1 * cin;
            int32_t s0[2 * TINYC_PW_MVE_PX], s1[2 * TINYC_PW_MVE_PX];
            if (quads) {
                for (g = 0; g < n; g += 4) {
                    tinyc_pw_mve_dot2x4(w0, w1, t + (size_t)g * cin, cin >> 4, s0 + g, s1 + g);
                }
            } else {
                for (g = 0; g < n; g += 2) {
                    tinyc_pw_mve_dot2x2(w0, w1, t + (size_t)g * cin, t + (size_t)(g + 1) * cin, cin, s0 + g, s1 + g);
                }
            }
            {
                const tinyc_mve_outq q0 = tinyc_mve_outq_of(p, bias, co, p->input_zp * p->weight_sums[co]);
                tinyc_mve_row(&q0, s0, yn + (size_t)co * plane + px, n);
            }
            if (co1 != co) {
                const tinyc_mve_outq q1 = tinyc_mve_outq_of(p, bias, co1, p->input_zp * p->weight_sums[co1]);
                tinyc_mve_row(&q1, s1, yn + (size_t)co1 * plane + px, n);
            }
        }
    }
}
#endif

#if TINYC_HAS_DSP
/* One (plane pair, pixel quad) step: xa, xb = 4 pixels of planes ci and ci + 2 (or ci + 1, ci + 3),
 * wa, wb = (w[co][ci], w[co][ci + 2]) of the two output channels as int16 pairs. */
#define TINYC_CONV_1X1_STEP(ea, eb, oa, ob)                                              \
    do {                                                                              \
        int32_t v_ = tinyc_conv_pack_lo(ea, eb);                                      \
        a00 = __smlad(v_, wa, a00); a10 = __smlad(v_, wb, a10);                       \
        v_ = tinyc_conv_pack_hi(ea, eb);                                              \
        a02 = __smlad(v_, wa, a02); a12 = __smlad(v_, wb, a12);                       \
        v_ = tinyc_conv_pack_lo(oa, ob);                                              \
        a01 = __smlad(v_, wa, a01); a11 = __smlad(v_, wb, a11);                       \
        v_ = tinyc_conv_pack_hi(oa, ob);                                              \
        a03 = __smlad(v_, wa, a03); a13 = __smlad(v_, wb, a13);                       \
    } while (0)
#endif

#if TINYC_HAS_DSP
/* Input channels the stack buffer of tinyc_conv_1x1_buffered_s8 holds: 8 bytes each, 1 KiB of stack. */
#define TINYC_CONV_1X1_BUF_CI 128
#ifndef TINYC_CONV_1X1_BLOCKS4_CI
#define TINYC_CONV_1X1_BLOCKS4_CI 32  /* up to this Ci (a multiple of 4): tinyc_conv_1x1_blocks4_s8 */
#endif

/* The int16 pairs of 4 pixels (n_px <= 4 of them real, zeros after) of input channels [0, cin4): per 4
 * channels ci, 8 words [4 pixels of (x[ci], x[ci+2])], [4 pixels of (x[ci+1], x[ci+3])], then `gap`
 * words left for the caller. */
static void tinyc_pw_pairs(const int8_t *xp, int32_t plane, int32_t n_px, int32_t cin4, int32_t *bp, int32_t gap)
{
    int32_t ci;
    for (ci = 0; ci < cin4; ci += 4) {
        int32_t q0, q1, q2, q3, e, f;
        if (n_px == 4) {
            q0 = tinyc_load4(xp);
            q1 = tinyc_load4(xp + plane);
            q2 = tinyc_load4(xp + 2 * plane);
            q3 = tinyc_load4(xp + 3 * plane);
        } else {  /* the last pixels only: zeros beyond them, no read past the planes */
            int8_t b[4][4] = {{0}};
            int32_t k, i;
            for (k = 0; k < 4; k++) {
                for (i = 0; i < n_px; i++) b[k][i] = xp[k * plane + i];
            }
            memcpy(&q0, b[0], 4);
            memcpy(&q1, b[1], 4);
            memcpy(&q2, b[2], 4);
            memcpy(&q3, b[3], 4);
        }
        e = __sxtb16(q0);
        f = __sxtb16(q2);
        bp[0] = tinyc_conv_pack_lo(e, f);
        bp[2] = tinyc_conv_pack_hi(e, f);
        e = tinyc_sxtb16_odd(q0);
        f = tinyc_sxtb16_odd(q2);
        bp[1] = tinyc_conv_pack_lo(e, f);
        bp[3] = tinyc_conv_pack_hi(e, f);
        e = __sxtb16(q1);
        f = __sxtb16(q3);
        bp[4] = tinyc_conv_pack_lo(e, f);
        bp[6] = tinyc_conv_pack_hi(e, f);
        e = tinyc_sxtb16_odd(q1);
        f = tinyc_sxtb16_odd(q3);
        bp[5] = tinyc_conv_pack_lo(e, f);
        bp[7] = tinyc_conv_pack_hi(e, f);
        bp += 8 + gap;
        xp += 4 * plane;
    }
}

/* Four pixels' sums: 4 input channels per step from the pairs at *pp (advanced) against w's (ci, ci+2)
 * and (ci+1, ci+3) int16 pairs we, wo. */
#define TINYC_PW_QUAD(pp, we, wo, a0, a1, a2, a3)                                  \
    do {                                                                         \
        int32_t u_, v_;                                                          \
        tinyc_conv_load_pair(&(pp), &u_, &v_);                                   \
        a0 = __smlad(u_, we, a0);                                                \
        a1 = __smlad(v_, we, a1);                                                \
        tinyc_conv_load_pair(&(pp), &u_, &v_);                                   \
        a2 = __smlad(u_, we, a2);                                                \
        a3 = __smlad(v_, we, a3);                                                \
        tinyc_conv_load_pair(&(pp), &u_, &v_);                                   \
        a0 = __smlad(u_, wo, a0);                                                \
        a1 = __smlad(v_, wo, a1);                                                \
        tinyc_conv_load_pair(&(pp), &u_, &v_);                                   \
        a2 = __smlad(u_, wo, a2);                                                \
        a3 = __smlad(v_, wo, a3);                                                \
    } while (0)

/* Out of line, to keep the hot loops' copies small: channel co's tinyc_pw_store4 constants into *k
 * (its bias for tinyc_pw_store4_qadd); 0 when the channel needs tinyc_conv_fastq_row_s8. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int tinyc_pw_outq_of(const tinyc_conv2d_s8_params *p, const int32_t *bias, int32_t co, tinyc_pw_outq *k)
{
    const tinyc_conv_fastq q = tinyc_conv_fastq_of_s8(p, bias, co, p->input_zp * p->weight_sums[co]);
    /* tinyc_pw_outq_from's steps written out: through it gcc keeps q in memory here (6 more instructions a call) */
    k->multiplier = q.multiplier;
    k->round_hi = q.round_hi;
    k->rs = q.right_minus_1;
    k->lo4 = (int32_t)((uint32_t)(uint8_t)p->clamp.min * 0x01010101u);
    k->hi4 = (int32_t)((uint32_t)(uint8_t)p->clamp.max * 0x01010101u);
    k->bias = q.bias;
    return q.fast;
}

/* Out of line: channel co's outputs yp[0 .. n) from its raw sums acc over the first cin4 input channels, the
 * last Ci % 4 channels added from the planes at xp (x + px). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_pw_finish_s8(const tinyc_conv2d_s8_params *p, const int32_t *bias, int32_t co, int32_t *acc,
                               const int8_t *xp, const int8_t *wc, int32_t cin4, int8_t *yp, int32_t n)
{
    const int32_t cin = p->geom.input.c, plane = p->geom.input.h * p->geom.input.w;
    const tinyc_conv_fastq q = tinyc_conv_fastq_of_s8(p, bias, co, p->input_zp * p->weight_sums[co]);
    int32_t ci, i;
    for (ci = cin4; ci < cin; ci++) {  /* Ci % 4 */
        const int8_t *xr = xp + (size_t)ci * plane;
        const int32_t wv = wc[ci];
        for (i = 0; i < n; i++) acc[i] += xr[i] * wv;
    }
    tinyc_conv_fastq_row_s8(&q, acc, yp, n, 1);
}

/* Out of line: a dead channel's (multiplier 0) outputs yp[0 .. n), one constant (output_zp, clamped). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_pw_dead_s8(const tinyc_conv2d_s8_params *p, const int32_t *bias, int32_t co, int8_t *yp, int32_t n)
{
    const tinyc_conv_fastq q = tinyc_conv_fastq_of_s8(p, bias, co, 0);
    memset(yp, tinyc_conv_fastq_s8(&q, 0), (size_t)n);
}

/* Pixel blocks of 4 per pass for Ci % 4 == 0: as many blocks' pairs as `pairs` holds (2 Ci words each) are
 * built at once, then each output channel runs over all of them with its constants set up once; when its
 * bias cannot overflow a sum (|bias - zsum| + Ci * 2^14 < 2^31) the sums start at it (no QADD) and
 * tinyc_pw_store4 writes 4 outputs at once. Other channels and a short last block take
 * tinyc_conv_fastq_row_s8; a dead channel (multiplier 0) is one constant. */
#if !TINYC_HAS_MVE
static void tinyc_conv_1x1_blocks4_s8(const tinyc_conv2d_s8_params *p, const int8_t *xn, const int8_t *w,
                                      const int32_t *bias, int8_t *yn, int32_t *pairs, int32_t cap)
{
    const int32_t cin = p->geom.input.c, cout = p->geom.output.c;
    const int32_t plane = p->geom.input.h * p->geom.input.w, bwords = 2 * cin;
    const int32_t span = (cap / bwords) * 4;  /* pixels per pass */
    const int64_t sum_max = (int64_t)cin * 16384;  /* |sum of x * w| <= Ci * 128 * 127 */
    int32_t px0, px, co, ci;

    for (px0 = 0; px0 < plane; px0 += span) {
        const int32_t end = plane - px0 < span ? plane : px0 + span;
        int32_t *bp = pairs;
        for (px = px0; px < end; px += 4, bp += bwords) {
            tinyc_pw_pairs(xn + px, plane, end - px < 4 ? end - px : 4, cin, bp, 0);
        }
        for (co = 0; co < cout; co++) {
            tinyc_pw_outq k;
            const int fast = tinyc_pw_outq_of(p, bias, co, &k);
            const int64_t b64 = k.bias;
            const int folded = fast && (b64 < 0 ? -b64 : b64) + sum_max < 2147483647;
            const int32_t init = folded ? k.bias : 0;
            const int8_t *wc = w + (size_t)co * cin;
            const int8_t *const wend = wc + cin;
            int8_t *yp = yn + (size_t)co * plane + px0;
            const int32_t *pp = pairs;
            const int32_t full = folded ? (end - px0) / 4 : 0;  /* blocks stored by tinyc_pw_store4 */
            int32_t b;
            if (p->requant.multiplier[co] == 0) {  /* a dead channel: one constant */
                tinyc_pw_dead_s8(p, bias, co, yp, end - px0);
                continue;
            }
            for (b = 0; b < full; b++, yp += 4) {
                int32_t a0 = init, a1 = init, a2 = init, a3 = init;
                const int8_t *wp;
                for (wp = wc; wp < wend; wp += 4) {
                    const int32_t ww = tinyc_load4(wp);
                    const int32_t we = __sxtb16(ww), wo = tinyc_sxtb16_odd(ww);
                    TINYC_PW_QUAD(pp, we, wo, a0, a1, a2, a3);
                }
                tinyc_pw_store4(yp, a0, a1, a2, a3, &k);
            }
            for (px = px0 + 4 * full; px < end; px += 4, yp += 4) {
                int32_t acc[4] = {0, 0, 0, 0};
                for (ci = 0; ci < cin; ci += 4) {
                    const int32_t ww = tinyc_load4(wc + ci);
                    const int32_t we = __sxtb16(ww), wo = tinyc_sxtb16_odd(ww);
                    TINYC_PW_QUAD(pp, we, wo, acc[0], acc[1], acc[2], acc[3]);
                }
                tinyc_pw_finish_s8(p, bias, co, acc, xn + px, wc, cin, yp, end - px < 4 ? end - px : 4);
            }
        }
    }
}
#endif

/* Every output channel of one block of tinyc_conv_1x1_buffered_s8 (pixels px .. px + n_px, pairs built);
 * skip_dead (a constant where inlined) checks for dead channels. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void tinyc_pw_block8_channels(const tinyc_conv2d_s8_params *p, const int8_t *xn, const int8_t *w,
                                            const int32_t *bias, int8_t *yn, const int32_t *pairs, int32_t px,
                                            int32_t n_px, int32_t blk, int skip_dead)
{
    const int32_t cin = p->geom.input.c, cout = p->geom.output.c;
    const int32_t plane = p->geom.input.h * p->geom.input.w, cin4 = cin & ~3;
    int32_t ci, co;

    for (co = 0; co < cout; co++) {
        const int8_t *wc = w + (size_t)co * cin;
        const int32_t *pp = pairs;
        int8_t *yp = yn + (size_t)co * plane + px;
        int32_t acc[8];
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        if (skip_dead && p->requant.multiplier[co] == 0) {  /* a dead channel: one constant */
            tinyc_pw_dead_s8(p, bias, co, yp, n_px);
            continue;
        }
        if (blk == 8) {
            int32_t a4 = 0, a5 = 0, a6 = 0, a7 = 0;
            for (ci = 0; ci < cin4; ci += 4) {
                const int32_t ww = tinyc_load4(wc + ci);
                const int32_t we = __sxtb16(ww), wo = tinyc_sxtb16_odd(ww);
                TINYC_PW_QUAD(pp, we, wo, a0, a1, a2, a3);
                TINYC_PW_QUAD(pp, we, wo, a4, a5, a6, a7);
            }
            if (n_px == 8 && cin4 == cin) {
                tinyc_pw_outq k;
                if (tinyc_pw_outq_of(p, bias, co, &k)) {
                    tinyc_pw_store4_qadd(yp, a0, a1, a2, a3, &k);
                    tinyc_pw_store4_qadd(yp + 4, a4, a5, a6, a7, &k);
                    continue;
                }
            }
            acc[4] = a4;
            acc[5] = a5;
            acc[6] = a6;
            acc[7] = a7;
        } else {
            for (ci = 0; ci < cin4; ci += 4) {
                const int32_t ww = tinyc_load4(wc + ci);
                const int32_t we = __sxtb16(ww), wo = tinyc_sxtb16_odd(ww);
                TINYC_PW_QUAD(pp, we, wo, a0, a1, a2, a3);
            }
        }
        acc[0] = a0;
        acc[1] = a1;
        acc[2] = a2;
        acc[3] = a3;
        tinyc_pw_finish_s8(p, bias, co, acc, xn + px, wc, cin4, yp, n_px);
    }
}

/* Every output, 2 * Ci <= cap (the words of `pairs`), in blocks of 8 pixels (4 * Ci <= cap) or 4 (the last
 * block partly zeros; a last block of 4 or fewer pixels takes the 4-pixel form: no SMLADs on zeros). Per
 * block the (x[ci][p], x[ci+2][p]) int16 pairs are built once into the buffer (the pairing work is shared
 * by all Co), then each output channel reads them with one LDRD per two SMLADs and requantizes its raw
 * sums through tinyc_conv_fastq (a whole block of 8 with Ci % 4 == 0 by tinyc_pw_store4_qadd); a dead channel
 * (multiplier 0) is one constant. */
static void tinyc_conv_1x1_buffered_s8(const tinyc_conv2d_s8_params *p, const int8_t *xn, const int8_t *w,
                                    const int32_t *bias, int8_t *yn, int32_t *pairs, int32_t cap)
{
    const int32_t cin = p->geom.input.c, cout = p->geom.output.c;
    const int32_t plane = p->geom.input.h * p->geom.input.w, cin4 = cin & ~3;
    const int32_t blk_max = 4 * cin <= cap ? 8 : 4;
    int32_t px, co, dead = 0;

    for (co = 0; co < cout; co++) {
        dead |= p->requant.multiplier[co] == 0;
    }

    for (px = 0; px < plane; px += blk_max) {
        const int32_t n_px = plane - px < blk_max ? plane - px : blk_max;
        const int32_t blk = n_px > 4 ? blk_max : 4;
        if (blk == 8) {  /* per 4 channels: 8 words of pixels 0..3, 8 of pixels 4..7 */
            tinyc_pw_pairs(xn + px, plane, n_px < 4 ? n_px : 4, cin4, pairs, 8);
            tinyc_pw_pairs(xn + px + 4, plane, n_px < 4 ? 0 : n_px - 4, cin4, pairs + 8, 8);
        } else {
            tinyc_pw_pairs(xn + px, plane, n_px, cin4, pairs, 0);
        }
#if TINYC_HAS_MVE  /* reached only past the Helium path's limits: one copy, no skip */
        (void)dead;
        tinyc_pw_block8_channels(p, xn, w, bias, yn, pairs, px, n_px, blk, 0);
#else
        if (dead) {  /* the check of each channel in its own copy of the loop: it costs registers */
            tinyc_pw_block8_channels(p, xn, w, bias, yn, pairs, px, n_px, blk, 1);
        } else {
            tinyc_pw_block8_channels(p, xn, w, bias, yn, pairs, px, n_px, blk, 0);
        }
#endif
    }
}
#endif

/* 1x1, stride 1, no pad, groups 1: y[co][p] = sum_ci w[co][ci] * x[ci][p] - input_zp * weight_sums[co].
 * x NCHW int8, w (Co, Ci) int8 in [-127, 127], weight_sums int32 (Co) = sum_ci w[co][ci], bias int32 (Co)
 * or NULL. Both sums stay in int32 for Ci < 66000 and their difference is ref_int8's exact sum.
 * DSP, Ci <= 128: tinyc_conv_1x1_buffered_s8 (pairs in a 1 KiB stack buffer, 1 output channel x 8 or 4
 * pixels per step, every output). Ci > 128: 2 output channels x 4 pixels x 4 input channels per step,
 * SMLAD on (x[ci][p], x[ci+2][p]) pairs against (w[ci], w[ci+2]); remainders (Co % 2, pixels % 4,
 * Ci % 4) run the portable loop. Scratch: 0. */
void tinyc_conv2d_1x1_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                         const int32_t *bias, int8_t *y)
{
    const tinyc_conv_geometry *g = &p->geom;
    const int32_t cin = g->input.c, cout = g->output.c, plane = g->input.h * g->input.w;
    const int32_t input_zp = p->input_zp;
    int32_t n, co, px, ci;

    for (n = 0; n < g->input.n; n++) {
        const int8_t *xn = x + (size_t)n * cin * plane;
        int8_t *yn = y + (size_t)n * cout * plane;
        int32_t co_fast = 0, px_fast = 0;
#if TINYC_HAS_MVE
        if (cin <= TINYC_CONV_1X1_MVE_CI) {  /* the transposed block on the stack: 8 * Ci <= 1 KiB */
            int8_t t[TINYC_PW_MVE_PX * TINYC_CONV_1X1_MVE_CI];
            tinyc_pw_mve_s8(p, xn, w, bias, yn, t, (int32_t)sizeof t);
            continue;
        }
#endif
#if TINYC_HAS_DSP
        const int32_t plane2 = 2 * plane, plane3 = 3 * plane, plane4 = 4 * plane;
        co_fast = cout & ~1;
        px_fast = plane & ~3;
#if !TINYC_HAS_MVE  /* (Helium took these) */
        if (cin <= TINYC_CONV_1X1_BLOCKS4_CI && cin % 4 == 0) {
            int32_t pairs[2 * TINYC_CONV_1X1_BUF_CI];
            tinyc_conv_1x1_blocks4_s8(p, xn, w, bias, yn, pairs, 2 * TINYC_CONV_1X1_BUF_CI);
            co_fast = cout;  /* every output is done */
            px_fast = plane;
        } else
#endif
        if (cin <= TINYC_CONV_1X1_BUF_CI) {
            int32_t pairs[2 * TINYC_CONV_1X1_BUF_CI];
            tinyc_conv_1x1_buffered_s8(p, xn, w, bias, yn, pairs, 2 * TINYC_CONV_1X1_BUF_CI);
            co_fast = cout;  /* every output is done */
            px_fast = plane;
        }
        for (co = 0; co < co_fast && cin > TINYC_CONV_1X1_BUF_CI; co += 2) {
            const int8_t *w0 = w + (size_t)co * cin, *w1 = w0 + cin;
            for (px = 0; px < px_fast; px += 4) {
                int32_t a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0;
                const int8_t *xp = xn + px;
                int8_t *y0 = yn + (size_t)co * plane + px;
                for (ci = 0; ci + 3 < cin; ci += 4) {
                    const int32_t q0 = tinyc_load4(xp), q2 = tinyc_load4(xp + plane2);
                    const int32_t w0w = tinyc_load4(w0 + ci), w1w = tinyc_load4(w1 + ci);
                    int32_t wa = __sxtb16(w0w), wb = __sxtb16(w1w);
                    TINYC_CONV_1X1_STEP(__sxtb16(q0), __sxtb16(q2), tinyc_sxtb16_odd(q0),
                                        tinyc_sxtb16_odd(q2));
                    {
                        const int32_t q1 = tinyc_load4(xp + plane), q3 = tinyc_load4(xp + plane3);
                        wa = tinyc_sxtb16_odd(w0w);
                        wb = tinyc_sxtb16_odd(w1w);
                        TINYC_CONV_1X1_STEP(__sxtb16(q1), __sxtb16(q3), tinyc_sxtb16_odd(q1),
                                            tinyc_sxtb16_odd(q3));
                    }
                    xp += plane4;
                }
                for (; ci < cin; ci++) {
                    const int32_t wa = w0[ci], wb = w1[ci];
                    a00 += xp[0] * wa; a01 += xp[1] * wa; a02 += xp[2] * wa; a03 += xp[3] * wa;
                    a10 += xp[0] * wb; a11 += xp[1] * wb; a12 += xp[2] * wb; a13 += xp[3] * wb;
                    xp += plane;
                }
                {
                    const int32_t acc[2][4] = {{a00, a01, a02, a03}, {a10, a11, a12, a13}};
                    int32_t j, i;
                    for (j = 0; j < 2; j++) {
                        const tinyc_conv_channel chan = tinyc_conv_channel_of_s8(p, bias, co + j);
                        const int32_t zsum = input_zp * p->weight_sums[co + j];
                        for (i = 0; i < 4; i++) {
                            y0[(size_t)j * plane + i] = tinyc_conv_finish_s8(p, &chan, acc[j][i] - zsum);
                        }
                    }
                }
            }
        }
#endif
        /* Portable: every output the DSP block did not write (all of them without DSP). */
        for (co = 0; co < cout; co++) {
            const int8_t *wc = w + (size_t)co * cin;
            const int32_t zsum = input_zp * p->weight_sums[co];
            const tinyc_conv_channel chan = tinyc_conv_channel_of_s8(p, bias, co);
            if (p->requant.multiplier[co] == 0 && co >= co_fast) {  /* a dead channel: output_zp, clamped */
                memset(yn + (size_t)co * plane, tinyc_conv_finish_s8(p, &chan, 0), (size_t)plane);
                continue;
            }
            for (px = co < co_fast ? px_fast : 0; px < plane; px++) {
                const int8_t *xp = xn + px;
                int32_t acc = 0;
                for (ci = 0; ci < cin; ci++) {
                    acc += xp[0] * wc[ci];
                    xp += plane;
                }
                yn[(size_t)co * plane + px] = tinyc_conv_finish_s8(p, &chan, acc - zsum);
            }
        }
    }
}

/* As tinyc_conv2d_1x1_s8, the DSP build with its pair buffer in scratch instead of the stack: 8-pixel blocks
 * for any Ci (the stack's 1 KiB holds them up to Ci = 64). Portable: tinyc_conv2d_1x1_s8.
 * Scratch: 16 * Ci bytes. */
void tinyc_conv2d_1x1_wide_s8(const tinyc_conv2d_s8_params *p, const int8_t *x, const int8_t *w,
                              const int32_t *bias, int8_t *y, void *scratch)
{
#if TINYC_HAS_MVE
    if (p->geom.input.c <= 8191) {  /* the scatter's uint16 offsets reach 7 * Ci */
        const int32_t cin = p->geom.input.c, plane = p->geom.input.h * p->geom.input.w;
        int32_t n;
        for (n = 0; n < p->geom.input.n; n++) {
            tinyc_pw_mve_s8(p, x + (size_t)n * cin * plane, w, bias, y + (size_t)n * p->geom.output.c * plane,
                         (int8_t *)scratch, TINYC_PW_MVE_PX * cin);
        }
        return;
    }
#endif
#if TINYC_HAS_DSP
    const int32_t cin = p->geom.input.c, plane = p->geom.input.h * p->geom.input.w;
    int32_t n;
    for (n = 0; n < p->geom.input.n; n++) {
        tinyc_conv_1x1_buffered_s8(p, x + (size_t)n * cin * plane, w, bias,
                                   y + (size_t)n * p->geom.output.c * plane, (int32_t *)scratch, 4 * cin);
    }
#else
    (void)scratch;
    tinyc_conv2d_1x1_s8(p, x, w, bias, y);
#endif
}
