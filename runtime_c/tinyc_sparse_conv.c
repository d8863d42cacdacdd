/* tinyc_sparse_conv.c: CSR and N:M int8 conv2d, C99. Only stored weights are visited: a pruned weight is
 * zero and adds nothing, so the results are tinyc_conv2d_s8's bit for bit. The column kernels share the
 * dense conv's column fill (tinyc_conv_im2col.h, with half = K: no pairing of k with k + half) for 4
 * output pixels, two of them at col and col + 2, the other two at col + 1 and col + 3; the direct kernels
 * are in tinyc_sparse_taps.h. The DSP paths sum in another order, same bits. */
#include "tinyc_sparse_taps.h"
#define TINYC_COL_S 4  /* its columns: 4 int16 slots per k, filled two at a time (col, col + 1) */
#include "tinyc_conv_im2col.h"

/* Sums of 4 column slots (slot s = int16 col[4 k + s]) times one weight. DSP: P points at word 2 k (slots
 * 0, 1), P[1] at slots 2, 3; W holds the weight in its bottom (_B) or top (_T) half. */
#if TINYC_HAS_DSP
#define TINYC_SPC_MAC_B(P, W)          \
    do {                               \
        const int32_t e_ = (P)[0];     \
        const int32_t o_ = (P)[1];     \
        s0 = __smlabb(e_, (W), s0);    \
        s1 = __smlatb(e_, (W), s1);    \
        s2 = __smlabb(o_, (W), s2);    \
        s3 = __smlatb(o_, (W), s3);    \
    } while (0)
#define TINYC_SPC_MAC_T(P, W)          \
    do {                               \
        const int32_t e_ = (P)[0];     \
        const int32_t o_ = (P)[1];     \
        s0 = __smlabt(e_, (W), s0);    \
        s1 = __smlatt(e_, (W), s1);    \
        s2 = __smlabt(o_, (W), s2);    \
        s3 = __smlatt(o_, (W), s3);    \
    } while (0)
/* 4 entries at once: values v[0..3] widened by SXTB16 (entries 0, 2) and SXTB16 ROR 8 (1, 3), entry i's
 * word pointer cw + Ai (the Ai use the names a0..a3). */
#define TINYC_SPC_MAC4(V, A0, A1, A2, A3)                                                        \
    do {                                                                                         \
        const int32_t wv_ = tinyc_load4(V), we_ = __sxtb16(wv_), wo_ = tinyc_sxtb16_odd(wv_); \
        TINYC_SPC_MAC_B(cw + (A0), we_);                                                         \
        TINYC_SPC_MAC_B(cw + (A1), wo_);                                                         \
        TINYC_SPC_MAC_T(cw + (A2), we_);                                                         \
        TINYC_SPC_MAC_T(cw + (A3), wo_);                                                         \
    } while (0)
#endif

#if TINYC_HAS_DSP
/* One CSR entry in asm: its column (LOAD of STEP bytes, post-indexed), the 4 slots' words at cw + 8 * column
 * (LDRD), its value (LDRSB) times each slot: 9 instructions, 11 registers with the loop's. */
#define TINYC_SPC_ASM_ENTRY(LOAD, STEP)                 \
    LOAD " %[t], [%[ci]], #" STEP "\n\t"                \
    "add %[t], %[cw], %[t], lsl #3\n\t"                 \
    "ldrd %[e], %[o], [%[t]]\n\t"                       \
    "ldrsb %[t], [%[v]], #1\n\t"                        \
    "smlabb %[s0], %[e], %[t], %[s0]\n\t"               \
    "smlatb %[s1], %[e], %[t], %[s1]\n\t"               \
    "smlabb %[s2], %[o], %[t], %[s2]\n\t"               \
    "smlatb %[s3], %[o], %[t], %[s3]\n\t"
#endif

#if TINYC_HAS_DSP
/* One N:M entry (m = 4) in asm: the positions byte (reloaded: no register to keep it), its field by EXTRACT,
 * the slots' words at cw + 8 * position + OFF (the group's first column, in bytes), its value: 10 instructions. */
#define TINYC_SPC_ASM_NM(EXTRACT, OFF)                  \
    "ldrb %[t], [%[pos]]\n\t"                           \
    EXTRACT "\n\t"                                      \
    "add %[t], %[cw], %[t], lsl #3\n\t"                 \
    "ldrd %[e], %[o], [%[t], #" OFF "]\n\t"             \
    "ldrsb %[t], [%[v]], #1\n\t"                        \
    "smlabb %[s0], %[e], %[t], %[s0]\n\t"               \
    "smlatb %[s1], %[e], %[t], %[s1]\n\t"               \
    "smlabb %[s2], %[o], %[t], %[s2]\n\t"               \
    "smlatb %[s3], %[o], %[t], %[s3]\n\t"
#endif

#if TINYC_HAS_DSP
/* As TINYC_SPC_ASM_NM with the positions byte in a register (b). */
#define TINYC_SPC_ASM_NMB(EXTRACT, OFF)                 \
    EXTRACT "\n\t"                                      \
    "add %[t], %[cw], %[t], lsl #3\n\t"                 \
    "ldrd %[e], %[o], [%[t], #" OFF "]\n\t"             \
    "ldrsb %[t], [%[v]], #1\n\t"                        \
    "smlabb %[s0], %[e], %[t], %[s0]\n\t"               \
    "smlatb %[s1], %[e], %[t], %[s1]\n\t"               \
    "smlabb %[s2], %[o], %[t], %[s2]\n\t"               \
    "smlatb %[s3], %[o], %[t], %[s3]\n\t"
#endif

/* One entry: weight w at reduction index k, plain C. */
#define TINYC_SPC_MAC1(K, W)                          \
    do {                                              \
        const int16_t *p_ = col + 4 * (K);            \
        const int32_t w_ = (W);                       \
        s0 += p_[0] * w_;                             \
        s1 += p_[1] * w_;                             \
        s2 += p_[2] * w_;                             \
        s3 += p_[3] * w_;                             \
    } while (0)

/* Raw sums of pixel j, s[j] = sum w * col[4 k + (j & 1) * 2 + (j >> 1)], over a CSR row's entries. */
static void tinyc_spc_csr_dot(const tinyc_sparse_row *row, const int16_t *col, int32_t s[4])
{
    const int8_t *v = row->values;
    const int32_t count = row->count;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, j = 0;
#if TINYC_HAS_DSP
    const int32_t *cw = (const int32_t *)(const void *)col;
#if !defined(__OPTIMIZE__)  /* -O0: gcc has no 11 registers for the asm below */
    if (row->cols_u8 != NULL) {
        for (; j < count; j++) {
            TINYC_SPC_MAC_B(cw + 2 * row->cols_u8[j], v[j]);
        }
    }
#else
    if (count & 1) {  /* the odd entry first: the asm loop takes two a step */
        const int32_t k = row->cols_u8 != NULL ? (int32_t)row->cols_u8[0] : (int32_t)row->cols_u16[0];
        TINYC_SPC_MAC_B(cw + 2 * k, v[0]);
        j = 1;
    }
    if (count - j >= 2) {
        const int8_t *vp = v + j;
        int32_t t, e, o;
        if (row->cols_u8 != NULL) {
            const uint8_t *ci = row->cols_u8 + j, *const end = row->cols_u8 + count;
            __asm__("1:\n\t" TINYC_SPC_ASM_ENTRY("ldrb", "1") TINYC_SPC_ASM_ENTRY("ldrb", "1")
                    "cmp %[ci], %[end]\n\t"
                    "bne 1b"
                    : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [ci] "+r"(ci), [v] "+r"(vp),
                      [t] "=&r"(t), [e] "=&r"(e), [o] "=&r"(o)
                    : [cw] "r"(cw), [end] "r"(end)
                    : "cc", "memory");
        } else {
            const uint16_t *ci = row->cols_u16 + j, *const end = row->cols_u16 + count;
            __asm__("1:\n\t" TINYC_SPC_ASM_ENTRY("ldrh", "2") TINYC_SPC_ASM_ENTRY("ldrh", "2")
                    "cmp %[ci], %[end]\n\t"
                    "bne 1b"
                    : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [ci] "+r"(ci), [v] "+r"(vp),
                      [t] "=&r"(t), [e] "=&r"(e), [o] "=&r"(o)
                    : [cw] "r"(cw), [end] "r"(end)
                    : "cc", "memory");
        }
    }
    j = count;
#endif
#endif
    for (; j < count; j++) {
        TINYC_SPC_MAC1(row->cols_u8 != NULL ? (int32_t)row->cols_u8[j] : (int32_t)row->cols_u16[j], v[j]);
    }
    s[0] = s0;  /* pixel order: slot (j & 1) * 2 + (j >> 1) holds pixel j */
    s[1] = s2;
    s[2] = s1;
    s[3] = s3;
}

/* As tinyc_spc_csr_dot over an N:M row. DSP, m = 4 and n = 1 or 2: a positions byte holds 4 entries of
 * whole groups (16 or 8 columns, 32 or 16 words), so their word offsets are constants plus 2 * position. */
static void tinyc_spc_nm_dot(const tinyc_sparse_row *row, const int16_t *col, int32_t s[4])
{
    const int8_t *v = row->values;
    const uint8_t *pos = row->positions;  /* the DSP steps move it on; the tail reads from bit j * bits */
    const int32_t count = row->count, n = row->n, m = row->m, bits = row->bits, mask = (1 << bits) - 1;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, j = 0, grp_k = 0, left = 0;
    (void)pos;  /* unused without the asm steps */
#if TINYC_HAS_DSP
    const int32_t *cw = (const int32_t *)(const void *)col;
#if defined(__OPTIMIZE__)  /* -O0: gcc has no 11 registers for these asm loops; the C loop below does it */
    if (m == 4 && (n == 1 || n == 2) && count >= 4) {
        const uint8_t *const end = pos + count / 4;  /* whole bytes: 4 entries of whole groups */
        const int8_t *vp = v;
        int32_t t, e, o;
#if defined(__OPTIMIZE__) && !defined(__OPTIMIZE_SIZE__)
        /* optimised builds: the positions byte stays in a register (12 registers, 9 instructions an entry) */
        int32_t b;
        if (n == 1) {
            __asm__("1:\n\t"
                    "ldrb %[b], [%[pos]], #1\n\t"
                    TINYC_SPC_ASM_NMB("and %[t], %[b], #3", "0") TINYC_SPC_ASM_NMB("ubfx %[t], %[b], #2, #2", "32")
                    TINYC_SPC_ASM_NMB("ubfx %[t], %[b], #4, #2", "64") TINYC_SPC_ASM_NMB("lsr %[t], %[b], #6", "96")
                    "add %[cw], %[cw], #128\n\t"
                    "cmp %[pos], %[end]\n\t"
                    "bne 1b"
                    : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [pos] "+r"(pos), [v] "+r"(vp),
                      [cw] "+r"(cw), [t] "=&r"(t), [e] "=&r"(e), [o] "=&r"(o), [b] "=&r"(b)
                    : [end] "r"(end)
                    : "cc", "memory");
        } else {
            __asm__("1:\n\t"
                    "ldrb %[b], [%[pos]], #1\n\t"
                    TINYC_SPC_ASM_NMB("and %[t], %[b], #3", "0") TINYC_SPC_ASM_NMB("ubfx %[t], %[b], #2, #2", "0")
                    TINYC_SPC_ASM_NMB("ubfx %[t], %[b], #4, #2", "32") TINYC_SPC_ASM_NMB("lsr %[t], %[b], #6", "32")
                    "add %[cw], %[cw], #64\n\t"
                    "cmp %[pos], %[end]\n\t"
                    "bne 1b"
                    : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [pos] "+r"(pos), [v] "+r"(vp),
                      [cw] "+r"(cw), [t] "=&r"(t), [e] "=&r"(e), [o] "=&r"(o), [b] "=&r"(b)
                    : [end] "r"(end)
                    : "cc", "memory");
        }
#else
        if (n == 1) {
            __asm__("1:\n\t" TINYC_SPC_ASM_NM("and %[t], %[t], #3", "0") TINYC_SPC_ASM_NM("ubfx %[t], %[t], #2, #2", "32")
                    TINYC_SPC_ASM_NM("ubfx %[t], %[t], #4, #2", "64") TINYC_SPC_ASM_NM("lsr %[t], %[t], #6", "96")
                    "adds %[pos], %[pos], #1\n\t"
                    "add %[cw], %[cw], #128\n\t"
                    "cmp %[pos], %[end]\n\t"
                    "bne 1b"
                    : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [pos] "+r"(pos), [v] "+r"(vp),
                      [cw] "+r"(cw), [t] "=&r"(t), [e] "=&r"(e), [o] "=&r"(o)
                    : [end] "r"(end)
                    : "cc", "memory");
        } else {
            __asm__("1:\n\t" TINYC_SPC_ASM_NM("and %[t], %[t], #3", "0") TINYC_SPC_ASM_NM("ubfx %[t], %[t], #2, #2", "0")
                    TINYC_SPC_ASM_NM("ubfx %[t], %[t], #4, #2", "32") TINYC_SPC_ASM_NM("lsr %[t], %[t], #6", "32")
                    "adds %[pos], %[pos], #1\n\t"
                    "add %[cw], %[cw], #64\n\t"
                    "cmp %[pos], %[end]\n\t"
                    "bne 1b"
                    : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [pos] "+r"(pos), [v] "+r"(vp),
                      [cw] "+r"(cw), [t] "=&r"(t), [e] "=&r"(e), [o] "=&r"(o)
                    : [end] "r"(end)
                    : "cc", "memory");
        }
#endif
        j = count / 4 * 4;
    }
#else
    (void)cw;
#endif
#endif
    if (j < count) {
        grp_k = j / n * m;  /* the first column of entry j's group, and the entries left in it */
        left = n - j % n;
    }
    for (; j < count; j++) {
        const int32_t bit = j * bits;
        TINYC_SPC_MAC1(grp_k + ((row->positions[bit >> 3] >> (bit & 7)) & mask), v[j]);
        if (--left == 0) {
            left = n;
            grp_k += m;
        }
    }
    s[0] = s0;  /* pixel order: slot (j & 1) * 2 + (j >> 1) holds pixel j */
    s[1] = s2;
    s[2] = s1;
    s[3] = s3;
}

/* The column kernels' state: the output constants in tinyc_conv2d_s8_params form (for tinyc_conv_fastq_of_s8),
 * the columns (4 slots per k) and zpw[oc] = input_zp * (row oc's weight sum). */
typedef struct {
    const tinyc_sparse_conv *c;
    int16_t *col;
    const tinyc_conv_fastq *q;  /* per output channel */
    tinyc_sparse_row nm_row;    /* N:M: row 0 (every row has its count and bytes) */
    const int16_t *live;        /* the group's output channels with entries, live[0 .. nlive) (CSR) */
    int32_t nlive;
    int32_t nm_row_bytes;
    int32_t cout_g, reduction, out_plane;
} tinyc_spc;

/* The group's output channels at the 4 pixels of the columns, plane offsets pix[0 .. npix) of yg (pixel j's
 * sums are in slot (j & 1) * 2 + (j >> 1); pixels past npix are stale columns, their outputs dropped). */
static void tinyc_spc_channels(const tinyc_spc *t, int32_t oc0, int8_t *yg, const int32_t *pix, int32_t npix)
{
    const tinyc_sparse_conv *c = t->c;
    const int contiguous = npix == 4 && pix[3] == pix[0] + 3;
    tinyc_sparse_row row = t->nm_row;  /* N:M: the layout of every row, row 0's arrays */
    int32_t i, j, s[4];
    for (i = 0; i < t->nlive; i++) {
        const int32_t oc = t->live[i];
        const tinyc_conv_fastq *q = t->q + oc;
        int8_t *yc = yg + (oc - oc0) * t->out_plane;
        if (c->csr != NULL) {
            const tinyc_sparse_row r = tinyc_csr_row(c->csr, oc);
            tinyc_spc_csr_dot(&r, t->col, s);
        } else {
            row.values = t->nm_row.values + oc * row.count;
            row.positions = t->nm_row.positions + oc * t->nm_row_bytes;
            tinyc_spc_nm_dot(&row, t->col, s);
        }
        if (contiguous) {
            tinyc_conv_fastq_row_s8(q, s, yc + pix[0], 4, 1);
        } else {
            for (j = 0; j < npix; j++) {
                yc[pix[j]] = tinyc_conv_fastq_s8(q, s[j]);
            }
        }
    }
}

/* Columns of the 4 inside windows at xw, xw + 1, xw + 2, xw + 3 (stride 1, dilation 1): for each kernel row,
 * A_j = (x[j], x[j + 2]) for j = 0 .. KW, and tap kx's words are A_kx (pixels 0, 2) and A_kx+1 (pixels 1, 3).
 * DSP: A_j is SXTB16 of the word at x + j (j even, j < KW) or SXTB16 ROR 8 of the word at x + j - 1, so no
 * read goes past pixel 3's last tap. */
static void tinyc_spc_quad_cols(const tinyc_conv_cols *cc, const int8_t *xw, int16_t *col)
{
    const int32_t kh = cc->kh, kw = cc->kw, row_step = cc->row_step, plane_step = cc->plane_step;
    int32_t ic, ky, kx;
    for (ic = 0; ic < cc->cin_g; ic++, xw += plane_step) {
        for (ky = 0; ky < kh; ky++, xw += row_step) {
#if TINYC_HAS_DSP
            int32_t *d = (int32_t *)(void *)col;
            if (kw == 1 && kh == 1) {  /* pointwise: one word per input channel */
                const int32_t u = tinyc_load4(xw);
                d[0] = __sxtb16(u);
                d[1] = tinyc_sxtb16_odd(u);
            } else if (kw == 3) {
                const int32_t u = tinyc_load4(xw), v = tinyc_load4(xw + 2);
                const int32_t a0 = __sxtb16(u), a1 = tinyc_sxtb16_odd(u), a2 = __sxtb16(v);
                d[0] = a0;
                d[1] = a1;
                d[2] = a1;
                d[3] = a2;
                d[4] = a2;
                d[5] = tinyc_sxtb16_odd(v);
            } else {
                int32_t prev = __sxtb16(tinyc_load4(xw));
                for (kx = 0; kx < kw; kx++) {
                    const int32_t j = kx + 1;
                    const int32_t next = (j & 1) || j == kw ? tinyc_sxtb16_odd(tinyc_load4(xw + (j - 1)))
                                                            : __sxtb16(tinyc_load4(xw + j));
                    d[2 * kx] = prev;
                    d[2 * kx + 1] = next;
                    prev = next;
                }
            }
#else
            for (kx = 0; kx < kw; kx++) {
                col[4 * kx] = xw[kx];
                col[4 * kx + 1] = xw[kx + 2];
                col[4 * kx + 2] = xw[kx + 1];
                col[4 * kx + 3] = xw[kx + 3];
            }
#endif
            col += 4 * kw;
        }
    }
}

#if TINYC_HAS_DSP
/* One kernel row (KW = 3) of 4 windows whose v0 (left) and / or v5 (right) lie outside x, xr = the row's v1:
 * the words from x[1 .. 4] (and x[0 .. 3] or x[2 .. 5] when inside), input_zp packed in; no reads outside. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void tinyc_spc_edge3_row(const int8_t *xr, int left, int right, int32_t zp, int32_t *d)
{
    const int32_t u = tinyc_load4(xr);
    const int32_t a1 = __sxtb16(u), a2 = tinyc_sxtb16_odd(u);
    d[0] = left ? tinyc_conv_pack_lo(zp, a2) : __sxtb16(tinyc_load4(xr - 1));
    d[1] = a1;
    d[2] = a1;
    d[3] = a2;
    d[4] = a2;
    d[5] = right ? tinyc_conv_pack_lo(a1 >> 16, zp) : tinyc_sxtb16_odd(tinyc_load4(xr + 1));
}

/* tinyc_spc_quad_edge_cols for KW = 3 with at most v0 and v5 outside x (jlo <= 1, jhi >= 5). */
static void tinyc_spc_quad_edge3(const tinyc_conv_cols *cc, int32_t iy0, int32_t ix0, int left, int right, int16_t *col)
{
    const int32_t kh = cc->kh, in_w = cc->in_w, in_h = cc->in_h, dh = cc->dh, zp = cc->zp;
    const int32_t zz = (int32_t)(((uint32_t)(uint16_t)zp << 16) | (uint16_t)zp);
    int32_t ic, ky, kx;
    int32_t *d = (int32_t *)(void *)col;
    for (ic = 0; ic < cc->cin_g; ic++) {
        const int8_t *xc = cc->xg + ic * cc->in_plane;
        for (ky = 0; ky < kh; ky++, d += 6) {
            const int32_t iy = iy0 + ky * dh;
            if (iy < 0 || iy >= in_h) {
                for (kx = 0; kx < 6; kx++) {
                    d[kx] = zz;
                }
            } else if (left && right) {
                tinyc_spc_edge3_row(xc + iy * in_w + ix0 + 1, 1, 1, zp, d);
            } else if (left) {
                tinyc_spc_edge3_row(xc + iy * in_w + ix0 + 1, 1, 0, zp, d);
            } else if (right) {
                tinyc_spc_edge3_row(xc + iy * in_w + ix0 + 1, 0, 1, zp, d);
            } else {
                tinyc_spc_edge3_row(xc + iy * in_w + ix0 + 1, 0, 0, zp, d);
            }
        }
    }
}
#endif

/* Columns of the 4 windows at (iy0, ix0 .. ix0 + 3) (stride 1, dilation_w 1), any of them reaching outside x:
 * taps outside hold input_zp. Per kernel row, v[j] = x[iy][ix0 + j] or input_zp for j < KW + 3 (at most
 * TINYC_SPC_QUAD_W), then tap kx's slots are v[kx], v[kx + 2], v[kx + 1], v[kx + 3]. */
#define TINYC_SPC_QUAD_W 19
static void tinyc_spc_quad_edge_cols(const tinyc_conv_cols *cc, int32_t iy0, int32_t ix0, int16_t *col)
{
    const int32_t kh = cc->kh, kw = cc->kw, in_w = cc->in_w, in_h = cc->in_h, dh = cc->dh;
    const int32_t jlo = tinyc_clamp_i32(-ix0, 0, kw + 3), jhi = tinyc_clamp_i32(in_w - ix0, jlo, kw + 3);
    const int16_t zp = cc->zp;
    int16_t v[TINYC_SPC_QUAD_W];
    int32_t ic, ky, kx, j;
#if TINYC_HAS_DSP
    if (kw == 3 && jlo <= 1 && jhi >= 5) {
        tinyc_spc_quad_edge3(cc, iy0, ix0, jlo == 1, jhi == 5, col);
        return;
    }
#endif
    for (j = 0; j < kw + 3; j++) {
        v[j] = zp;
    }
    for (ic = 0; ic < cc->cin_g; ic++) {
        const int8_t *xc = cc->xg + ic * cc->in_plane;
        for (ky = 0; ky < kh; ky++, col += 4 * kw) {
            const int32_t iy = iy0 + ky * dh;
            if (iy < 0 || iy >= in_h) {
                for (kx = 0; kx < 4 * kw; kx++) {
                    col[kx] = zp;
                }
                continue;
            }
            if (kw == 3) {  /* unrolled: v0 .. v5 in registers */
                const int32_t r = iy * in_w + ix0;
                const int32_t v0 = jlo <= 0 && jhi > 0 ? xc[r] : zp, v1 = jlo <= 1 && jhi > 1 ? xc[r + 1] : zp;
                const int32_t v2 = jlo <= 2 && jhi > 2 ? xc[r + 2] : zp, v3 = jlo <= 3 && jhi > 3 ? xc[r + 3] : zp;
                const int32_t v4 = jlo <= 4 && jhi > 4 ? xc[r + 4] : zp, v5 = jhi > 5 ? xc[r + 5] : zp;
#if TINYC_HAS_DSP
                int32_t *d = (int32_t *)(void *)col;
                const int32_t w1 = tinyc_conv_pack_lo(v1, v3), w2 = tinyc_conv_pack_lo(v2, v4);
                d[0] = tinyc_conv_pack_lo(v0, v2);
                d[1] = w1;
                d[2] = w1;
                d[3] = w2;
                d[4] = w2;
                d[5] = tinyc_conv_pack_lo(v3, v5);
#else
                col[0] = (int16_t)v0;
                col[1] = (int16_t)v2;
                col[2] = (int16_t)v1;
                col[3] = (int16_t)v3;
                col[4] = (int16_t)v1;
                col[5] = (int16_t)v3;
                col[6] = (int16_t)v2;
                col[7] = (int16_t)v4;
                col[8] = (int16_t)v2;
                col[9] = (int16_t)v4;
                col[10] = (int16_t)v3;
                col[11] = (int16_t)v5;
#endif
                continue;
            }
            for (j = jlo; j < jhi; j++) {
                v[j] = xc[iy * in_w + ix0 + j];
            }
            for (kx = 0; kx < kw; kx++) {
                col[4 * kx] = v[kx];
                col[4 * kx + 1] = v[kx + 2];
                col[4 * kx + 2] = v[kx + 1];
                col[4 * kx + 3] = v[kx + 3];
            }
        }
    }
}

/* One pixel's column at d (its slot): inside windows straight, others with input_zp outside x. */
static void tinyc_spc_col1(const tinyc_conv_cols *cc, const tinyc_conv_geometry *g, int32_t oy, int32_t ox,
                           int16_t *d)
{
    const int32_t iy0 = oy * g->stride_h - g->pad_top, ix0 = ox * g->stride_w - g->pad_left;
    if (cc->dw == 1 && iy0 >= 0 && iy0 + (cc->kh - 1) * cc->dh < cc->in_h && ix0 >= 0 && ix0 + cc->kw - 1 < cc->in_w) {
        tinyc_conv_col_inside_s8(cc, cc->xg + iy0 * cc->in_w + ix0, 0, d, 0);
    } else {
        tinyc_conv_col_edge_s8(cc, iy0, ix0, d);
    }
}

/* The listed pixels' columns (plane offsets pix[0 .. npix)), then their outputs. */
static void tinyc_spc_list(const tinyc_spc *t, const tinyc_conv_cols *cc, int32_t oc0, int8_t *yg, const int32_t *pix,
                           int32_t npix)
{
    const int32_t out_w = t->c->g->output.w;
    int32_t j;
    for (j = 0; j < npix; j++) {
        tinyc_spc_col1(cc, t->c->g, pix[j] / out_w, pix[j] % out_w, t->col + (j & 1) * 2 + (j >> 1));
    }
    tinyc_spc_channels(t, oc0, yg, pix, npix);
}

/* The column kernels: per group, with stride_w 1 and dilation_w 1 each output row in runs of 4 pixels whose
 * columns fill at once; else the pixels in lists of 4, filled one by one when the list is full. A pointwise
 * conv (1x1, stride 1, no padding) runs its planes as one row: no short runs at row ends. A CSR row without
 * entries (a dead channel) outputs one constant: its plane is filled once and skipped. Scratch: 8 * K bytes
 * of columns (4 pixels of K int16), then Co tinyc_conv_fastq (40 bytes each) and Co int16 live channels
 * (tinyc/ops/conv.py counts on 42 Co). */
typedef char tinyc_spc_fastq_is_40_bytes[sizeof(tinyc_conv_fastq) == 40 ? 1 : -1];

/* CSR row r has no entries. */
static int tinyc_spc_empty(const tinyc_sparse_conv *c, int32_t r)
{
    return c->csr != NULL && tinyc_csr_ptr(c->csr, r + 1) == tinyc_csr_ptr(c->csr, r);
}

/* g, a pointwise conv's planes as one row. */
static tinyc_conv_geometry tinyc_spc_flat(const tinyc_conv_geometry *g)
{
    tinyc_conv_geometry f = *g;
    if (f.kernel_h == 1 && f.kernel_w == 1 && f.stride_h == 1 && f.stride_w == 1 && f.pad_top == 0
        && f.pad_left == 0 && f.output.h == f.input.h && f.output.w == f.input.w) {
        f.input.w = f.output.w = f.input.h * f.input.w;
        f.input.h = f.output.h = 1;
    }
    return f;
}

static void tinyc_spc_run(const tinyc_sparse_conv *c0, const int8_t *x, const int32_t *bias, int8_t *y, void *scratch)
{
    const tinyc_conv_geometry flat = tinyc_spc_flat(c0->g);
    const tinyc_conv_geometry *g = &flat;
    tinyc_sparse_conv flat_c = *c0;
    const tinyc_sparse_conv *c = &flat_c;
    const int32_t groups = g->groups, co = g->output.c, out_w = g->output.w;
    const int32_t cout_g = co / groups, out_plane = g->output.h * out_w;
    const int quads = g->stride_w == 1 && g->dilation_w == 1 && g->kernel_w + 3 <= TINYC_SPC_QUAD_W;
    tinyc_conv_cols cc;
    tinyc_spc t;
    tinyc_conv2d_s8_params dp;  /* the output constants, for tinyc_conv_fastq_of_s8 */
    tinyc_conv_fastq *q;
    int16_t *live;
    int32_t n, grp, oy, ox, i, oy_lo, oy_hi, ox_lo, ox_hi, pix[4], nlive = 0;

    flat_c.g = g;
    cc.in_h = g->input.h;
    cc.in_w = g->input.w;
    cc.in_plane = cc.in_h * cc.in_w;
    cc.kh = g->kernel_h;
    cc.kw = g->kernel_w;
    cc.dh = g->dilation_h;
    cc.dw = g->dilation_w;
    cc.cin_g = g->input.c / groups;
    cc.k = cc.cin_g * cc.kh * cc.kw;
    cc.half = cc.k;  /* no second half: k's slots are col[4 k .. 4 k + 3] */
    cc.row_step = cc.dh * cc.in_w;
    cc.plane_step = cc.in_plane - cc.kh * cc.row_step;
    cc.zp = (int16_t)c->input_zp;
    t.c = c;
    memset(&dp, 0, sizeof dp);
    dp.output_zp = c->output_zp;
    dp.requant = c->requant;
    dp.clamp = c->clamp;
    t.col = (int16_t *)scratch;
    t.cout_g = cout_g;
    t.reduction = cc.k;
    t.out_plane = out_plane;
    q = (tinyc_conv_fastq *)(void *)(t.col + 4 * cc.k);
    t.q = q;
    live = (int16_t *)(void *)(q + co);
    t.live = live;
    memset(&t.nm_row, 0, sizeof t.nm_row);
    t.nm_row_bytes = 0;
    if (c->nm != NULL) {
        t.nm_row = tinyc_nm_row(c->nm, 0, cc.k);
        t.nm_row_bytes = (t.nm_row.count * t.nm_row.bits + 7) / 8;
    }
    for (i = 0; i < 4 * cc.k; i++) {  /* the slots of a short last list's missing pixels stay finite */
        t.col[i] = 0;
    }
    for (i = 0; i < co; i++) {
        const tinyc_sparse_row row = c->csr != NULL ? tinyc_csr_row(c->csr, i) : tinyc_nm_row(c->nm, i, cc.k);
        int32_t j, wsum = 0;
        for (j = 0; j < row.count; j++) {
            wsum += row.values[j];
        }
        q[i] = tinyc_conv_fastq_of_s8(&dp, bias, i, c->input_zp * wsum);
        if (!tinyc_spc_empty(c, i)) {
            live[nlive++] = (int16_t)i;
        }
    }
    tinyc_sparse_inner(g->output.h, cc.in_h, cc.kh, g->stride_h, g->pad_top, cc.dh, &oy_lo, &oy_hi);
    tinyc_sparse_inner(out_w, cc.in_w, cc.kw, g->stride_w, g->pad_left, cc.dw, &ox_lo, &ox_hi);
    for (n = 0; n < g->input.n; n++) {
        for (grp = 0; grp < groups; grp++) {
            int8_t *yg = y + ((size_t)n * co + (size_t)grp * cout_g) * out_plane;
            int32_t j = 0;  /* pixels in the list */
            for (i = 0; i < cout_g; i++) {
                if (tinyc_spc_empty(c, grp * cout_g + i)) {
                    memset(yg + i * out_plane, tinyc_conv_fastq_s8(q + grp * cout_g + i, 0), (size_t)out_plane);
                }
            }
            t.live = live;  /* the group's live channels: a run of the sorted list */
            while (t.live < live + nlive && *t.live < grp * cout_g) {
                t.live++;
            }
            for (t.nlive = 0; t.live + t.nlive < live + nlive && t.live[t.nlive] < (grp + 1) * cout_g; t.nlive++) {
            }
            cc.xg = x + ((size_t)n * g->input.c + (size_t)grp * cc.cin_g) * cc.in_plane;
            for (oy = 0; oy < g->output.h; oy++) {
                const int32_t iy0 = oy * g->stride_h - g->pad_top;
                const int inner_row = oy >= oy_lo && oy < oy_hi;
                if (quads) {  /* the row in runs of 4 (the last one maybe shorter) */
                    for (ox = 0; ox < out_w; ox += 4) {
                        const int32_t ix0 = ox - g->pad_left;
                        for (i = 0; i < 4; i++) {
                            pix[i] = oy * out_w + ox + i;
                        }
                        if (inner_row && ox >= ox_lo && ox + 4 <= ox_hi) {
                            tinyc_spc_quad_cols(&cc, cc.xg + iy0 * cc.in_w + ix0, t.col);
                        } else {
                            tinyc_spc_quad_edge_cols(&cc, iy0, ix0, t.col);
                        }
                        tinyc_spc_channels(&t, grp * cout_g, yg, pix, tinyc_min_i32(4, out_w - ox));
                    }
                    continue;
                }
                for (ox = 0; ox < out_w; ox++) {
                    pix[j] = oy * out_w + ox;
                    if (++j == 4) {
                        tinyc_spc_list(&t, &cc, grp * cout_g, yg, pix, 4);
                        j = 0;
                    }
                }
            }
            if (j > 0) {
                tinyc_spc_list(&t, &cc, grp * cout_g, yg, pix, j);
            }
        }
    }
}

static tinyc_sparse_conv tinyc_spc_of(const tinyc_conv_geometry *g, int32_t input_zp, int32_t output_zp,
                                      tinyc_requant_pc requant, tinyc_clamp clamp)
{
    tinyc_sparse_conv c;
    c.g = g;
    c.input_zp = input_zp;
    c.output_zp = output_zp;
    c.requant = requant;
    c.clamp = clamp;
    c.csr = NULL;
    c.nm = NULL;
    return c;
}

void tinyc_conv2d_csr_cols_s8(const tinyc_conv2d_csr_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y,
                              void *scratch)
{
    tinyc_sparse_conv c = tinyc_spc_of(&p->geom, p->input_zp, p->output_zp, p->requant, p->clamp);
    c.csr = &p->weights;
    tinyc_spc_run(&c, x, bias, y, scratch);
}

void tinyc_conv2d_nm_cols_s8(const tinyc_conv2d_nm_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y,
                             void *scratch)
{
    tinyc_sparse_conv c = tinyc_spc_of(&p->geom, p->input_zp, p->output_zp, p->requant, p->clamp);
    c.nm = &p->weights;
    tinyc_spc_run(&c, x, bias, y, scratch);
}

void tinyc_conv2d_csr_s8(const tinyc_conv2d_csr_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y)
{
    tinyc_sparse_conv c = tinyc_spc_of(&p->geom, p->input_zp, p->output_zp, p->requant, p->clamp);
    c.csr = &p->weights;
    tinyc_sparse_conv_run(&c, x, bias, y);
}

void tinyc_conv2d_nm_s8(const tinyc_conv2d_nm_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y)
{
    tinyc_sparse_conv c = tinyc_spc_of(&p->geom, p->input_zp, p->output_zp, p->requant, p->clamp);
    c.nm = &p->weights;
    tinyc_sparse_conv_run(&c, x, bias, y);
}
