/* tinyc_sparse.c: CSR and N:M int8 kernels for dense and conv2d layers, C99, no scratch; the dense ones
 * have a DSP path (4 entries per step, SXTB16 + SMLABB/SMLABT) that sums in another order, same bits.
 * Only stored weights are visited: a pruned weight is zero and adds nothing, so the results are
 * the dense kernels' bit for bit. */
#include "tinyc_sparse.h"

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

/* ---- dense ---- */

#if TINYC_HAS_DSP
/* acc + x0 * v0 + x1 * v1 + x2 * v2 + x3 * v3 for 4 int8 values packed in vw (x as int32): SXTB16 pairs
 * (v0, v2) and (v1, v3), then one 16x16 multiply-accumulate per entry. */
static inline int32_t tinyc_sparse_mac4(int32_t acc, int32_t vw, int32_t x0, int32_t x1, int32_t x2, int32_t x3)
{
    const int32_t ve = __sxtb16(vw), vo = tinyc_conv_sxtb16_odd(vw);
    acc = __smlabb(x0, ve, acc);
    acc = __smlabb(x1, vo, acc);
    acc = __smlabt(x2, ve, acc);
    return __smlabt(x3, vo, acc);
}
#endif

/* sum x[col] * value over a CSR row (the zero point is added by the caller). */
static int32_t tinyc_csr_dot_u8(const int8_t *v, const uint8_t *c, int32_t count, const int8_t *x)
{
    int32_t acc = 0;
#if TINYC_HAS_DSP
    for (; count >= 4; count -= 4, v += 4, c += 4) {
        const uint32_t cw = (uint32_t)tinyc_conv_load4((const int8_t *)c);
        acc = tinyc_sparse_mac4(acc, tinyc_conv_load4(v), x[cw & 0xffu], x[(cw >> 8) & 0xffu], x[(cw >> 16) & 0xffu],
                                x[cw >> 24]);
    }
#else
    for (; count >= 4; count -= 4, v += 4, c += 4) {
        acc += x[c[0]] * v[0] + x[c[1]] * v[1] + x[c[2]] * v[2] + x[c[3]] * v[3];
    }
#endif
    for (; count > 0; count--) {
        acc += x[*c++] * *v++;
    }
    return acc;
}

static int32_t tinyc_csr_dot_u16(const int8_t *v, const uint16_t *c, int32_t count, const int8_t *x)
{
    int32_t acc = 0;
#if TINYC_HAS_DSP
    for (; count >= 4; count -= 4, v += 4, c += 4) {
        acc = tinyc_sparse_mac4(acc, tinyc_conv_load4(v), x[c[0]], x[c[1]], x[c[2]], x[c[3]]);
    }
#else
    for (; count >= 4; count -= 4, v += 4, c += 4) {
        acc += x[c[0]] * v[0] + x[c[1]] * v[1] + x[c[2]] * v[2] + x[c[3]] * v[3];
    }
#endif
    for (; count > 0; count--) {
        acc += x[*c++] * *v++;
    }
    return acc;
}

/* The constants that turn a row's sum x * v into the int8 output. */
typedef struct {
    const int32_t *bias_folded, *bias;
    int32_t input_zp, output_zp;
    tinyc_requant_pc requant;
    tinyc_clamp clamp;
} tinyc_sparse_tail;

/* Output rows per tinyc_sparse_finish call (a local int32 array). */
#define TINYC_SPARSE_ROWS 16

/* acc[i] = sum x * v of output m + i, minus input_zp * sum v when there is no folded bias. */
static int32_t tinyc_sparse_zp_term(const tinyc_sparse_tail *t, const int8_t *v, int32_t count)
{
    int32_t vsum = 0, j;
    if (t->bias_folded != NULL) {
        return 0;
    }
    for (j = 0; j < count; j++) {
        vsum += v[j];
    }
    return t->input_zp * vsum;
}

/* Outputs m .. m + n - 1 from their sums: plus bias_folded, or (a sum could saturate) plus the bias,
 * saturated as the reference. Not inlined: its loop keeps its own registers. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_sparse_finish(const tinyc_sparse_tail *t, const int32_t *acc, int32_t n, int32_t m, int8_t *y)
{
    const int32_t *mult = t->requant.multiplier + m, *shift = t->requant.shift + m;
    const int32_t output_zp = t->output_zp;
    const tinyc_clamp clamp = t->clamp;
    int32_t i;
    y += m;
    if (t->bias_folded != NULL) {
        const int32_t *folded = t->bias_folded + m;
        for (i = 0; i < n; i++) {
            y[i] = tinyc_requantize_s8(acc[i] + folded[i], mult[i], shift[i], output_zp, clamp);
        }
    } else {
        for (i = 0; i < n; i++) {
            y[i] = tinyc_requantize_s8(tinyc_add_bias_sat(acc[i], t->bias, m + i), mult[i], shift[i], output_zp, clamp);
        }
    }
}

/* acc[i] = sum x * v of rows m0 .. m0 + n - 1 (minus the zero-point term without a folded bias). The
 * values and columns of consecutive rows are contiguous: both pointers just run on. The row lengths are
 * read first (one index type test per call, not per row). */
static void tinyc_csr_rows(const tinyc_csr_s8 *w, const tinyc_sparse_tail *t, int32_t m0, int32_t n,
                           const int8_t *x, int32_t *acc)
{
    int32_t count[TINYC_SPARSE_ROWS];
    int32_t start = tinyc_csr_ptr(w, m0), i;
    const int8_t *v = w->values + start;
    if (w->row_ptr_u8 != NULL) {
        for (i = 0; i < n; i++) {
            count[i] = w->row_ptr_u8[m0 + i + 1] - w->row_ptr_u8[m0 + i];
        }
    } else if (w->row_ptr_u16 != NULL) {
        for (i = 0; i < n; i++) {
            count[i] = w->row_ptr_u16[m0 + i + 1] - w->row_ptr_u16[m0 + i];
        }
    } else {
        for (i = 0; i < n; i++) {
            count[i] = (int32_t)(w->row_ptr_u32[m0 + i + 1] - w->row_ptr_u32[m0 + i]);
        }
    }
    if (w->cols_u8 != NULL) {
        const uint8_t *c = w->cols_u8 + start;
        for (i = 0; i < n; v += count[i], c += count[i], i++) {
            acc[i] = tinyc_csr_dot_u8(v, c, count[i], x);
        }
    } else {
        const uint16_t *c = w->cols_u16 + start;
        for (i = 0; i < n; v += count[i], c += count[i], i++) {
            acc[i] = tinyc_csr_dot_u16(v, c, count[i], x);
        }
    }
    if (t->bias_folded == NULL) {  /* a sum could saturate: the zero-point term, row by row */
        v = w->values + start;
        for (i = 0; i < n; v += count[i], i++) {
            acc[i] -= tinyc_sparse_zp_term(t, v, count[i]);
        }
    }
}

/* Scratch: 0. */
void tinyc_dense_csr_s8(const tinyc_dense_csr_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y)
{
    const int32_t k_len = p->in_features, m_len = p->out_features;
    const tinyc_sparse_tail t = {p->bias_folded, bias, p->input_zp, p->output_zp, p->requant, p->clamp};
    int32_t acc[TINYC_SPARSE_ROWS];
    int32_t r, m0;

    for (r = 0; r < p->rows; r++) {
        for (m0 = 0; m0 < m_len; m0 += TINYC_SPARSE_ROWS) {
            const int32_t n = tinyc_min_i32(TINYC_SPARSE_ROWS, m_len - m0);
            tinyc_csr_rows(&p->weights, &t, m0, n, x + (size_t)r * k_len, acc);
            tinyc_sparse_finish(&t, acc, n, m0, y + (size_t)r * m_len);
        }
    }
}

/* How the entries of an N:M row map onto x, worked out once per call. A packed byte holds 4 (2-bit)
 * or 2 (4-bit) positions; when n divides that count a byte covers whole groups at fixed offsets
 * (1:4, 2:4, 1:8, 2:8, 1:16, 2:16 ...): `per_byte` entries at x + offset[i] + position, then x
 * moves on by `step`. Other patterns (per_byte = 0) and a row's tail go one entry at a time. */
typedef struct {
    int32_t n, m, bits, count, row_bytes;
    int32_t per_byte, step;
    int32_t offset[4];
} tinyc_nm_layout;

static tinyc_nm_layout tinyc_nm_plan(const tinyc_nm_s8 *w, int32_t reduction)
{
    tinyc_nm_layout l;
    int32_t i;
    l.n = w->n;
    l.m = w->m;
    l.bits = tinyc_nm_bits(w->m);
    l.count = reduction / w->m * w->n;
    l.row_bytes = (l.count * l.bits + 7) / 8;
    l.per_byte = (l.bits == 2 || l.bits == 4) && (8 / l.bits) % l.n == 0 ? 8 / l.bits : 0;
    l.step = l.per_byte / l.n * l.m;
    for (i = 0; i < 4; i++) {
        l.offset[i] = i / l.n * l.m;
    }
    return l;
}

/* sum x[col] * value over one N:M row (values v, packed positions pos; the zero point is added by the caller). */
static int32_t tinyc_nm_dot(const tinyc_nm_layout *l, const int8_t *v, const uint8_t *pos, const int8_t *x)
{
    const uint32_t mask = (1u << l->bits) - 1u;
    int32_t left = l->count, acc = 0, i = 0;

    if (l->n == 1 && l->m == 4) {  /* 1:4: constant offsets, 8 entries (2 position bytes) a step */
        for (; left >= 8; left -= 8, v += 8, x += 32, pos += 2) {
            const uint32_t b = pos[0] | (uint32_t)pos[1] << 8;
#if TINYC_HAS_DSP
            acc = tinyc_sparse_mac4(acc, tinyc_conv_load4(v), x[b & 3u], x[4 + ((b >> 2) & 3u)],
                                    x[8 + ((b >> 4) & 3u)], x[12 + ((b >> 6) & 3u)]);
            acc = tinyc_sparse_mac4(acc, tinyc_conv_load4(v + 4), x[16 + ((b >> 8) & 3u)], x[20 + ((b >> 10) & 3u)],
                                    x[24 + ((b >> 12) & 3u)], x[28 + (b >> 14)]);
#else
            acc += x[b & 3u] * v[0] + x[4 + ((b >> 2) & 3u)] * v[1] + x[8 + ((b >> 4) & 3u)] * v[2] +
                   x[12 + ((b >> 6) & 3u)] * v[3] + x[16 + ((b >> 8) & 3u)] * v[4] + x[20 + ((b >> 10) & 3u)] * v[5] +
                   x[24 + ((b >> 12) & 3u)] * v[6] + x[28 + (b >> 14)] * v[7];
#endif
        }
    }
    if (l->n == 2 && l->m == 4) {  /* 2:4: the same with two entries per group */
        for (; left >= 8; left -= 8, v += 8, x += 16, pos += 2) {
            const uint32_t b = pos[0] | (uint32_t)pos[1] << 8;
#if TINYC_HAS_DSP
            acc = tinyc_sparse_mac4(acc, tinyc_conv_load4(v), x[b & 3u], x[(b >> 2) & 3u], x[4 + ((b >> 4) & 3u)],
                                    x[4 + ((b >> 6) & 3u)]);
            acc = tinyc_sparse_mac4(acc, tinyc_conv_load4(v + 4), x[8 + ((b >> 8) & 3u)], x[8 + ((b >> 10) & 3u)],
                                    x[12 + ((b >> 12) & 3u)], x[12 + (b >> 14)]);
#else
            acc += x[b & 3u] * v[0] + x[(b >> 2) & 3u] * v[1] + x[4 + ((b >> 4) & 3u)] * v[2] +
                   x[4 + ((b >> 6) & 3u)] * v[3] + x[8 + ((b >> 8) & 3u)] * v[4] + x[8 + ((b >> 10) & 3u)] * v[5] +
                   x[12 + ((b >> 12) & 3u)] * v[6] + x[12 + (b >> 14)] * v[7];
#endif
        }
    }
    if (l->per_byte == 4) {  /* 2-bit positions, n divides 4 (1:3, 1:4, 2:4, ...); the 1:4 tail */
        const int32_t o1 = l->offset[1], o2 = l->offset[2], o3 = l->offset[3], step = l->step;
        for (; left >= 4; left -= 4, v += 4, x += step) {
            const uint32_t b = *pos++;
#if TINYC_HAS_DSP
            acc = tinyc_sparse_mac4(acc, tinyc_conv_load4(v), x[b & 3u], x[o1 + ((b >> 2) & 3u)],
                                    x[o2 + ((b >> 4) & 3u)], x[o3 + (b >> 6)]);
#else
            acc += x[b & 3u] * v[0] + x[o1 + ((b >> 2) & 3u)] * v[1] + x[o2 + ((b >> 4) & 3u)] * v[2] +
                   x[o3 + (b >> 6)] * v[3];
#endif
        }
    } else if (l->per_byte == 2) {
        const int32_t o1 = l->offset[1], step = l->step;
        for (; left >= 2; left -= 2, v += 2, x += step) {
            const uint32_t b = *pos++;
            acc += x[b & 15u] * v[0] + x[o1 + (b >> 4)] * v[1];
        }
    }
    /* One entry at a time from a byte boundary: the rest of the row, or all of it. */
    while (left > 0) {
        const uint32_t b = *pos++;
        int32_t k;
        for (k = 0; k < 8 && left > 0; k += l->bits, left--) {
            acc += x[(b >> k) & mask] * *v++;
            if (++i == l->n) {
                i = 0;
                x += l->m;
            }
        }
    }
    return acc;
}

/* Scratch: 0. */
void tinyc_dense_nm_s8(const tinyc_dense_nm_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y)
{
    const int32_t k_len = p->in_features, m_len = p->out_features;
    const tinyc_nm_layout l = tinyc_nm_plan(&p->weights, k_len);
    const tinyc_sparse_tail t = {p->bias_folded, bias, p->input_zp, p->output_zp, p->requant, p->clamp};
    int32_t acc[TINYC_SPARSE_ROWS];
    int32_t r, m0, i;

    for (r = 0; r < p->rows; r++) {
        const int8_t *xr = x + (size_t)r * k_len, *v = p->weights.values;
        const uint8_t *pos = p->weights.positions;
        for (m0 = 0; m0 < m_len; m0 += TINYC_SPARSE_ROWS) {
            const int32_t n = tinyc_min_i32(TINYC_SPARSE_ROWS, m_len - m0);
            for (i = 0; i < n; i++, v += l.count, pos += l.row_bytes) {
                acc[i] = tinyc_nm_dot(&l, v, pos, xr) - tinyc_sparse_zp_term(&t, v, l.count);
            }
            tinyc_sparse_finish(&t, acc, n, m0, y + (size_t)r * m_len);
        }
    }
}
