/* tinyc_sparse.c: CSR and N:M int8 kernels for dense and conv2d layers, C99, no scratch; the dense ones
 * have a DSP path (4 entries per step, SXTB16 + SMLABB/SMLABT) that sums in another order, same bits.
 * Only stored weights are visited: a pruned weight is zero and adds nothing, so the results are
 * the dense kernels' bit for bit. */
#include "tinyc_sparse.h"
#include "tinyc_vec_requant.h"

static int32_t tinyc_csr_ptr(const tinyc_csr_s8 *w, int32_t r)
{
    if (w->row_ptr_u8 != NULL) {
        return w->row_ptr_u8[r];
    }
    return w->row_ptr_u16 != NULL ? (int32_t)w->row_ptr_u16[r] : (int32_t)w->row_ptr_u32[r];
}

/* The pair table of tinyc_dense_nm_table_s8: DSP cores without Helium (with Helium, gathers replace it). */
#define TINYC_NM_TABLE (TINYC_HAS_DSP && !TINYC_HAS_MVE)

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
    const int32_t ve = __sxtb16(vw), vo = tinyc_sxtb16_odd(vw);
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
#if TINYC_HAS_MVE
    for (; count >= 16; count -= 16, v += 16, c += 16) {  /* x gathered at 16 columns, VMLADAV */
        acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8(x, vldrbq_u8(c)), vldrbq_s8(v));
    }
    if (count > 0) {
        const mve_pred16_t pred = vctp8q((uint32_t)count);
        acc = vmladavaq_p_s8(acc, vldrbq_gather_offset_z_s8(x, vldrbq_z_u8(c, pred), pred), vldrbq_z_s8(v, pred), pred);
    }
    return acc;
#elif TINYC_HAS_DSP
    for (; count >= 4; count -= 4, v += 4, c += 4) {
        const uint32_t cw = (uint32_t)tinyc_load4((const int8_t *)c);
        acc = tinyc_sparse_mac4(acc, tinyc_load4(v), x[cw & 0xffu], x[(cw >> 8) & 0xffu], x[(cw >> 16) & 0xffu],
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
#if TINYC_HAS_MVE
    for (; count >= 8; count -= 8, v += 8, c += 8) {  /* x gathered at 8 columns as int16 lanes */
        acc = vmladavaq_s16(acc, vldrbq_gather_offset_s16(x, vldrhq_u16(c)), vldrbq_s16(v));
    }
    if (count > 0) {
        const mve_pred16_t pred = vctp16q((uint32_t)count);
        acc = vmladavaq_p_s16(acc, vldrbq_gather_offset_z_s16(x, vldrhq_z_u16(c, pred), pred), vldrbq_z_s16(v, pred),
                              pred);
    }
    return acc;
#elif TINYC_HAS_DSP
    for (; count >= 4; count -= 4, v += 4, c += 4) {
        acc = tinyc_sparse_mac4(acc, tinyc_load4(v), x[c[0]], x[c[1]], x[c[2]], x[c[3]]);
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
    int32_t vsum = 0, j = 0;
    if (t->bias_folded != NULL) {
        return 0;
    }
#if TINYC_HAS_MVE
    for (; j < count; j += 16) {
        vsum = vaddvaq_p_s8(vsum, vldrbq_z_s8(v + j, vctp8q((uint32_t)(count - j))), vctp8q((uint32_t)(count - j)));
    }
#endif
    for (; j < count; j++) {
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
#if TINYC_HAS_MVE
    for (i = 0; i < n; i += 4) {  /* 4 outputs a step, loads predicated: nothing read past the arrays */
        const mve_pred16_t pred = vctp32q((uint32_t)(n - i));
        int32x4_t sum = vldrwq_z_s32(acc + i, pred), v;
        if (t->bias_folded != NULL) {
            sum = vaddq_s32(sum, vldrwq_z_s32(t->bias_folded + m + i, pred));
        } else if (t->bias != NULL) {
            sum = vqaddq_s32(sum, vldrwq_z_s32(t->bias + m + i, pred));
        }
        v = tinyc_requantize_x4(sum, vldrwq_z_s32(mult + i, pred), vldrwq_z_s32(shift + i, pred));
        v = vminq_s32(vmaxq_s32(vaddq_n_s32(v, output_zp), vdupq_n_s32(clamp.min)), vdupq_n_s32(clamp.max));
        vstrbq_p_s32(y + i, v, pred);
    }
#else
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
#endif
}

/* The reference requantization of a (shift outside tinyc_sparse_finish_folded's fast range), out of line:
 * the fast loop keeps its registers. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int32_t tinyc_sparse_requant_slow(int32_t a, int32_t multiplier, int32_t shift)
{
    return tinyc_requantize(a, multiplier, shift);
}

/* y[i] for outputs with a folded bias (see tinyc_sparse_finish_folded); int8_range: the clamp is the int8
 * range, one SSAT on DSP cores. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void tinyc_sparse_folded_rows(const int32_t *acc, const int32_t *folded, const int32_t *mult,
                                            const int32_t *shift, int32_t n, int32_t zp, tinyc_clamp clamp,
                                            int int8_range, int8_t *y)
{
    const uint32_t round = 1u + 2u * (uint32_t)zp;
    int32_t i;
    for (i = 0; i < n; i++) {
        const int32_t a = acc[i] + folded[i];
        const uint32_t right_minus_2 = (uint32_t)(-2 - shift[i]);
        int32_t v;
        if (right_minus_2 <= 21u) {
            v = tinyc_conv_fastq_value(a, mult[i], (int32_t)(round << right_minus_2), (int32_t)right_minus_2 + 1);
        } else {
            v = tinyc_sparse_requant_slow(a, mult[i], shift[i]) + zp;
        }
#if TINYC_HAS_DSP
        if (int8_range) {
            y[i] = (int8_t)__ssat(v, 8);
            continue;
        }
#else
        (void)int8_range;
#endif
        y[i] = (int8_t)tinyc_clamp_i32(v, clamp.min, clamp.max);
    }
}

/* tinyc_sparse_finish with a folded bias: a = sum + bias_folded[m] is exact (the compiler checked), and an
 * output whose shift is in [-23, -2] takes tinyc_conv_fastq's one-SMLAL form, the same bits as
 * tinyc_requantize_s8 (a zero multiplier included: both give output_zp). Its rounding constant
 * 2^(right - 2) + zp 2^(right - 1) is (1 + 2 zp) << (right - 2). Other shifts, or no folded bias, take
 * tinyc_sparse_finish's. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_sparse_finish_folded(const tinyc_sparse_tail *t, const int32_t *acc, int32_t n, int32_t m,
                                       int8_t *y)
{
    const int32_t *mult = t->requant.multiplier + m, *shift = t->requant.shift + m, *folded = t->bias_folded + m;
    if (t->bias_folded == NULL || TINYC_HAS_MVE) {  /* with Helium its 4-lane requantization */
        tinyc_sparse_finish(t, acc, n, m, y);
        return;
    }
#if TINYC_HAS_DSP
    if (t->clamp.min == -128 && t->clamp.max == 127) {
        tinyc_sparse_folded_rows(acc, folded, mult, shift, n, t->output_zp, t->clamp, 1, y + m);
        return;
    }
#endif
    tinyc_sparse_folded_rows(acc, folded, mult, shift, n, t->output_zp, t->clamp, 0, y + m);
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
            tinyc_sparse_finish_folded(&t, acc, n, m0, y + (size_t)r * m_len);
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
            acc = tinyc_sparse_mac4(acc, tinyc_load4(v), x[b & 3u], x[4 + ((b >> 2) & 3u)],
                                    x[8 + ((b >> 4) & 3u)], x[12 + ((b >> 6) & 3u)]);
            acc = tinyc_sparse_mac4(acc, tinyc_load4(v + 4), x[16 + ((b >> 8) & 3u)], x[20 + ((b >> 10) & 3u)],
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
            acc = tinyc_sparse_mac4(acc, tinyc_load4(v), x[b & 3u], x[(b >> 2) & 3u], x[4 + ((b >> 4) & 3u)],
                                    x[4 + ((b >> 6) & 3u)]);
            acc = tinyc_sparse_mac4(acc, tinyc_load4(v + 4), x[8 + ((b >> 8) & 3u)], x[8 + ((b >> 10) & 3u)],
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
            acc = tinyc_sparse_mac4(acc, tinyc_load4(v), x[b & 3u], x[o1 + ((b >> 2) & 3u)],
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

/* ---- 1:4 and 2:4 through a table of input pairs ----
 * tinyc_dense_nm_table_s8 takes what tinyc_dense_nm_s8 takes, for 1:4 or 2:4 weights reordered by the
 * compiler (tinyc/ops/dense.py nm_table_values, nm24_table_positions): in each row every 4 values v0 v1 v2 v3
 * are stored v0 v2 v1 v3, so SXTB16 of the word gives (v0, v1) and SXTB16 ror 8 gives (v2, v3); a row's last
 * count % 4 values keep their order. Then two kept weights cost one table word and one SMLAD:
 * 1:4: groups g, g + 1 (8 inputs) with positions a, b (nibble n = a + 4 b of the position byte) take the
 *   word (x[4 g + a], x[4 g + 4 + b]). Block B of 16 groups (64 inputs) holds 128 words: word 64 h + 4 n + k
 *   for the unit (position byte) k and its pair h.
 * 2:4: group g's positions (p0, p1) are re-encoded as a slot s (TINYC_NM24_P0/P1, same nibble) and take the
 *   word (x[4 g + p0], x[4 g + p1]). Block B of 8 groups (32 inputs) holds 64 words: 32 h + 4 s + k for group
 *   2 k + h.
 * So the 8 nibbles of a 32-bit position word index a block's words from two masks of it (tinyc_nm14_blocks,
 * tinyc_nm24_blocks). The DSP build writes the table of each x row into scratch, 8 bytes per input: 1:4
 * 512 * ceil((K / 16) / 4) bytes (units of a last partial block included), 2:4 256 * (K / 32) bytes (the groups
 * after the whole blocks read x); the portable build gets the same scratch and reads x directly. */

#if TINYC_NM_TABLE
/* t[4 (a + 4 b)] = (x[a], x[4 + b]) as int16 lanes, for a, b in 0..3. */
static void tinyc_nm_table_pair(const int8_t *x, int32_t *t)
{
    const int32_t lo = tinyc_load4(x), hi = tinyc_load4(x + 4);
    const int32_t l02 = __sxtb16(lo), l13 = tinyc_sxtb16_odd(lo);
    const int32_t h46 = __sxtb16(hi), h57 = tinyc_sxtb16_odd(hi);
    const int32_t l20 = (int32_t)((uint32_t)l02 >> 16 | (uint32_t)l02 << 16);  /* (x2, x0): a ROR */
    const int32_t l31 = (int32_t)((uint32_t)l13 >> 16 | (uint32_t)l13 << 16);
    t[0] = tinyc_conv_pack_lo(l02, h46);
    t[4] = tinyc_conv_pack_lo(l13, h46);
    t[8] = tinyc_conv_pack_lo(l20, h46);
    t[12] = tinyc_conv_pack_lo(l31, h46);
    t[16] = tinyc_conv_pack_lo(l02, h57);
    t[20] = tinyc_conv_pack_lo(l13, h57);
    t[24] = tinyc_conv_pack_lo(l20, h57);
    t[28] = tinyc_conv_pack_lo(l31, h57);
    t[32] = tinyc_conv_pack_hi(l20, h46);
    t[36] = tinyc_conv_pack_hi(l31, h46);
    t[40] = tinyc_conv_pack_hi(l02, h46);
    t[44] = tinyc_conv_pack_hi(l13, h46);
    t[48] = tinyc_conv_pack_hi(l20, h57);
    t[52] = tinyc_conv_pack_hi(l31, h57);
    t[56] = tinyc_conv_pack_hi(l02, h57);
    t[60] = tinyc_conv_pack_hi(l13, h57);
}

static void tinyc_nm_table_build(const int8_t *x, int32_t units, int32_t *t)
{
    int32_t u;
    for (u = 0; u < units; u++, x += 16) {
        int32_t *tb = t + 128 * (u >> 2) + (u & 3);
        tinyc_nm_table_pair(x, tb);
        tinyc_nm_table_pair(x + 8, tb + 64);
    }
}

/* 2:4: the compiler re-encodes a group's positions (p0, p1) as a slot s: (0, 0), (0, 1), (0, 2), (0, 3),
 * (1, 2), (1, 3), (2, 3) for s = 0..6 (p0 = TINYC_NM24_P0(s), p1 = TINYC_NM24_P1(s)). t[4 s] = (x[p0], x[p1]). */
static void tinyc_nm24_table_group(const int8_t *x, int32_t *t)
{
    const int32_t w = tinyc_load4(x), l02 = __sxtb16(w), l13 = tinyc_sxtb16_odd(w);
    t[0] = tinyc_conv_pack_lo(l02, l02);
    t[4] = tinyc_conv_pack_lo(l02, l13);
    t[8] = l02;
    t[12] = (int32_t)(((uint32_t)l02 & 0xffffu) | ((uint32_t)l13 & 0xffff0000u));
    t[16] = (int32_t)(((uint32_t)l13 & 0xffffu) | ((uint32_t)l02 & 0xffff0000u));
    t[20] = l13;
    t[24] = tinyc_conv_pack_hi(l02, l13);
}

/* Block b (8 groups, 32 inputs) at t + 64 b: group 2 k + h's slots from word 32 h + k. */
static void tinyc_nm24_table_build(const int8_t *x, int32_t blocks, int32_t *t)
{
    int32_t j;
    for (j = 0; j < 8 * blocks; j++, x += 4) {
        tinyc_nm24_table_group(x, t + 64 * (j >> 3) + 32 * (j & 1) + ((j >> 1) & 3));
    }
}

/* acc plus `blocks` blocks (4 position bytes, 16 values each); moves *t, *v, *pos past them. Position word w:
 * e = its low nibbles * 4 + lane (0x03020100), o = its high nibbles * 4 + half + lane, so byte k of e / o is
 * the table index of pair / group 2 k / 2 k + 1 in the block's `step` bytes of table. 11 registers.
 * 1:4: a block is 16 groups (8 pairs), 128 words; 2:4: 8 groups, 64 words. */
/* With optimisation the odd indices take their own constant (12 registers); at -O0 (a frame pointer, fewer
 * free registers) one more ORR per block. */
#if defined(__OPTIMIZE__)
#define TINYC_NM_TABLE_ODD "orr %[o], %[c2], %[o], lsr #2\n\t"
#define TINYC_NM_TABLE_C2(half) [c2] "r"(0x03020100u | (half))
#else
#define TINYC_NM_TABLE_ODD "orr %[o], %[c], %[o], lsr #2\n\t" "orr %[o], %[o], %[c2]\n\t"
#define TINYC_NM_TABLE_C2(half) [c2] "i"(half)
#endif
/* One block: 4 position bytes, 16 values, `step` bytes of table. */
#define TINYC_NM_TABLE_BODY(step)                                                                                 \
    "ldr %[e], [%[pos]], #4\n\t"                                                                                  \
    "and %[o], %[e], #0xf0f0f0f0\n\t"                                                                             \
    "and %[e], %[e], #0x0f0f0f0f\n\t"                                                                             \
    "orr %[e], %[c], %[e], lsl #2\n\t"                                                                            \
    TINYC_NM_TABLE_ODD                                                                                            \
    "ldr %[vw], [%[v]], #4\n\t"                                                                                   \
    "sxtb16 %[vs], %[vw], ror #8\n\t"                                                                             \
    "sxtb16 %[vw], %[vw]\n\t"                                                                                     \
    "uxtb %[tw], %[e]\n\t"                                                                                        \
    "ldr %[tw], [%[t], %[tw], lsl #2]\n\t"                                                                        \
    "smlad %[acc], %[tw], %[vw], %[acc]\n\t"                                                                      \
    "uxtb %[tw], %[o]\n\t"                                                                                        \
    "ldr %[tw], [%[t], %[tw], lsl #2]\n\t"                                                                        \
    "smlad %[acc], %[tw], %[vs], %[acc]\n\t"                                                                      \
    "ldr %[vw], [%[v]], #4\n\t"                                                                                   \
    "sxtb16 %[vs], %[vw], ror #8\n\t"                                                                             \
    "sxtb16 %[vw], %[vw]\n\t"                                                                                     \
    "uxtb %[tw], %[e], ror #8\n\t"                                                                                \
    "ldr %[tw], [%[t], %[tw], lsl #2]\n\t"                                                                        \
    "smlad %[acc], %[tw], %[vw], %[acc]\n\t"                                                                      \
    "uxtb %[tw], %[o], ror #8\n\t"                                                                                \
    "ldr %[tw], [%[t], %[tw], lsl #2]\n\t"                                                                        \
    "smlad %[acc], %[tw], %[vs], %[acc]\n\t"                                                                      \
    "ldr %[vw], [%[v]], #4\n\t"                                                                                   \
    "sxtb16 %[vs], %[vw], ror #8\n\t"                                                                             \
    "sxtb16 %[vw], %[vw]\n\t"                                                                                     \
    "uxtb %[tw], %[e], ror #16\n\t"                                                                               \
    "ldr %[tw], [%[t], %[tw], lsl #2]\n\t"                                                                        \
    "smlad %[acc], %[tw], %[vw], %[acc]\n\t"                                                                      \
    "uxtb %[tw], %[o], ror #16\n\t"                                                                               \
    "ldr %[tw], [%[t], %[tw], lsl #2]\n\t"                                                                        \
    "smlad %[acc], %[tw], %[vs], %[acc]\n\t"                                                                      \
    "ldr %[vw], [%[v]], #4\n\t"                                                                                   \
    "sxtb16 %[vs], %[vw], ror #8\n\t"                                                                             \
    "sxtb16 %[vw], %[vw]\n\t"                                                                                     \
    "lsr %[tw], %[e], #24\n\t"                                                                                    \
    "ldr %[tw], [%[t], %[tw], lsl #2]\n\t"                                                                        \
    "smlad %[acc], %[tw], %[vw], %[acc]\n\t"                                                                      \
    "lsr %[tw], %[o], #24\n\t"                                                                                    \
    "ldr %[tw], [%[t], %[tw], lsl #2]\n\t"                                                                        \
    "smlad %[acc], %[tw], %[vs], %[acc]\n\t"                                                                      \
    "add %[t], %[t], #" step "\n\t"

#define TINYC_NM_TABLE_BLOCKS(name, half, body)                                                                   \
static inline int32_t name(int32_t acc, int32_t blocks, const int32_t **t, const int8_t **v, const uint8_t **pos) \
{                                                                                                                 \
    const int32_t *tp = *t;                                                                                       \
    const int8_t *vp = *v;                                                                                        \
    const uint8_t *pp = *pos;                                                                                     \
    uint32_t e, o, vw, vs, tw;                                                                                    \
    __asm__("1:\n\t" body                                                                                         \
            "subs %[n], %[n], #1\n\t"                                                                             \
            "bne 1b\n\t"                                                                                          \
            : [acc] "+r"(acc), [n] "+r"(blocks), [t] "+r"(tp), [v] "+r"(vp), [pos] "+r"(pp), [e] "=&r"(e),        \
              [o] "=&r"(o), [vw] "=&r"(vw), [vs] "=&r"(vs), [tw] "=&r"(tw)                                        \
            : [c] "r"(0x03020100u), TINYC_NM_TABLE_C2(half)                                                \
            : "cc", "memory");                                                                                    \
    *t = tp;                                                                                                      \
    *v = vp;                                                                                                      \
    *pos = pp;                                                                                                    \
    return acc;                                                                                                   \
}

TINYC_NM_TABLE_BLOCKS(tinyc_nm14_blocks, 0x40404040u, TINYC_NM_TABLE_BODY("512"))
TINYC_NM_TABLE_BLOCKS(tinyc_nm24_blocks, 0x20202020u, TINYC_NM_TABLE_BODY("256"))
/* 1:4, two blocks a step (`blocks` counts pairs): one loop branch per 32 weights, not 16. */
TINYC_NM_TABLE_BLOCKS(tinyc_nm14_block_pairs, 0x40404040u, TINYC_NM_TABLE_BODY("512") TINYC_NM_TABLE_BODY("512"))

/* acc[i] = the whole blocks of rows i < n (the asm above, row after row); moves *v and *pos on. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tinyc_nm_table_rows(int32_t *acc, int32_t n, int32_t keep, int32_t blocks, const int32_t *table,
                                const int8_t **v, const uint8_t **pos)
{
    const int8_t *vp = *v;
    const uint8_t *pp = *pos;
    int32_t i;
    if (keep == 1 && blocks % 2 == 0) {
        for (i = 0; i < n; i++) {
            const int32_t *tp = table;
            acc[i] = tinyc_nm14_block_pairs(0, blocks / 2, &tp, &vp, &pp);
        }
    } else if (keep == 1) {
        for (i = 0; i < n; i++) {
            const int32_t *tp = table;
            acc[i] = tinyc_nm14_blocks(0, blocks, &tp, &vp, &pp);
        }
    } else {
        for (i = 0; i < n; i++) {
            const int32_t *tp = table;
            acc[i] = tinyc_nm24_blocks(0, blocks, &tp, &vp, &pp);
        }
    }
    *v = vp;
    *pos = pp;
}
#endif

#define TINYC_NM24_P0(s) ((0x2110000u >> (4u * (s))) & 3u)
#define TINYC_NM24_P1(s) ((0x3323210u >> (4u * (s))) & 3u)

/* acc + sum x[col] * value over `groups` groups of a reordered 1:4 row, from a byte boundary of its positions
 * (the DSP build: after the row's whole blocks, fewer than 16 groups; t: their table block). */
static int32_t tinyc_nm14_rest(int32_t acc, const int8_t *v, const uint8_t *pos, int32_t groups, const int32_t *t,
                               const int8_t *x)
{
    int32_t left = groups, i;
    uint32_t b;
#if TINYC_HAS_MVE
    /* 16 groups (4 position bytes) a step: lane l of unit u = l / 4 holds value j = l % 4 of the stored order
     * v0 v2 v1 v3, so group g = (0, 2, 1, 3)[j] of the unit: position (byte u >> 2 g) & 3, input 16 u + 4 g + it */
    static const uint8_t byte_of[16] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3};
    static const int8_t down[16] = {0, -4, -2, -6, 0, -4, -2, -6, 0, -4, -2, -6, 0, -4, -2, -6};
    static const uint8_t base[16] = {0, 8, 4, 12, 16, 24, 20, 28, 32, 40, 36, 44, 48, 56, 52, 60};
    const uint8x16_t bytes = vld1q_u8(byte_of), at = vld1q_u8(base);
    const int8x16_t shifts = vld1q_s8(down);
    (void)t;
    for (; left >= 16; left -= 16, v += 16, x += 64, pos += 4) {
        const uint8x16_t p = vandq_u8(vshlq_u8(vldrbq_gather_offset_u8(pos, bytes), shifts), vdupq_n_u8(3));
        acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8(x, vaddq_u8(p, at)), vldrbq_s8(v));
    }
#endif
#if TINYC_NM_TABLE
    for (i = 0; left >= 4; left -= 4, v += 4, x += 16, i++) {
        const int32_t vw = tinyc_load4(v);
        b = *pos++;
        acc = __smlad(t[4 * (b & 15u) + (uint32_t)i], __sxtb16(vw), acc);
        acc = __smlad(t[64 + 4 * (b >> 4) + (uint32_t)i], tinyc_sxtb16_odd(vw), acc);
    }
#else
    (void)t;
    for (; left >= 4; left -= 4, v += 4, x += 16) {
        b = *pos++;
        acc += x[b & 3u] * v[0] + x[4 + ((b >> 2) & 3u)] * v[2] + x[8 + ((b >> 4) & 3u)] * v[1] +
               x[12 + (b >> 6)] * v[3];
    }
#endif
    if (left > 0) {  /* the last groups % 4, in order */
        b = *pos;
        for (i = 0; i < left; i++) {
            acc += x[4 * i + (int32_t)((b >> (2 * i)) & 3u)] * v[i];
        }
    }
    return acc;
}

/* The same for a reordered 2:4 row (slots, values of groups 2 u, 2 u + 1 as a0 b0 a1 b1 -> a0 a1 b0 b1; a
 * last odd group's two in order), straight from x. */
static int32_t tinyc_nm24_rest(int32_t acc, const int8_t *v, const uint8_t *pos, int32_t groups, const int8_t *x)
{
    uint32_t s0, s1;
#if TINYC_HAS_MVE
    /* 8 groups (4 slot bytes) a step: lane l of byte u = l / 4 holds a0 a1 b0 b1 (j = l % 4) of groups 2 u
     * (low nibble) and 2 u + 1: slot (byte >> 4 (j & 1)) & 15, position P0 or P1 (j >= 2) of it from a
     * 16-byte table, input 8 u + 4 (j & 1) + position */
    static const uint8_t byte_of[16] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3};
    static const int8_t down[16] = {0, -4, 0, -4, 0, -4, 0, -4, 0, -4, 0, -4, 0, -4, 0, -4};
    static const uint8_t half[16] = {0, 0, 8, 8, 0, 0, 8, 8, 0, 0, 8, 8, 0, 0, 8, 8};
    static const uint8_t base[16] = {0, 4, 0, 4, 8, 12, 8, 12, 16, 20, 16, 20, 24, 28, 24, 28};
    static const uint8_t slot_pos[16] = {0, 0, 0, 0, 1, 1, 2, 0, 0, 1, 2, 3, 2, 3, 3, 0};  /* P0(s), P1(s) */
    const uint8x16_t bytes = vld1q_u8(byte_of), lut_at = vld1q_u8(half), at = vld1q_u8(base);
    const int8x16_t shifts = vld1q_s8(down);
    for (; groups >= 8; groups -= 8, v += 16, x += 32, pos += 4) {
        const uint8x16_t slot = vandq_u8(vshlq_u8(vldrbq_gather_offset_u8(pos, bytes), shifts), vdupq_n_u8(15));
        const uint8x16_t p = vldrbq_gather_offset_u8(slot_pos, vaddq_u8(slot, lut_at));
        acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8(x, vaddq_u8(p, at)), vldrbq_s8(v));
    }
#endif
    for (; groups >= 2; groups -= 2, v += 4, x += 8) {
        s0 = *pos & 15u;
        s1 = (uint32_t)*pos++ >> 4;
        acc += x[TINYC_NM24_P0(s0)] * v[0] + x[TINYC_NM24_P1(s0)] * v[2] + x[4 + TINYC_NM24_P0(s1)] * v[1] +
               x[4 + TINYC_NM24_P1(s1)] * v[3];
    }
    if (groups > 0) {
        s0 = *pos & 15u;
        acc += x[TINYC_NM24_P0(s0)] * v[0] + x[TINYC_NM24_P1(s0)] * v[1];
    }
    return acc;
}

void tinyc_dense_nm_table_s8(const tinyc_dense_nm_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y,
                             void *scratch)
{
    const int32_t k_len = p->in_features, m_len = p->out_features, groups = k_len / 4, keep = p->weights.n;
#if TINYC_NM_TABLE
    const int32_t per_block = keep == 1 ? 16 : 8;  /* groups per asm block */
    const int32_t blocks = groups / per_block, rest = groups % per_block;
#else
    const int32_t blocks = 0, rest = groups;
#endif
    const int32_t done = groups - rest, rest_bytes = (rest * keep + 3) / 4;  /* groups in blocks, the rest's bytes */
    const tinyc_sparse_tail t = {p->bias_folded, bias, p->input_zp, p->output_zp, p->requant, p->clamp};
    int32_t *table = (int32_t *)scratch;
    int32_t acc[TINYC_SPARSE_ROWS];
    int32_t r, m0, i;

    for (r = 0; r < p->rows; r++) {
        const int8_t *xr = x + (size_t)r * k_len, *v = p->weights.values;
        const uint8_t *pos = p->weights.positions;
#if TINYC_NM_TABLE
        if (keep == 1) {
            tinyc_nm_table_build(xr, groups / 4, table);
        } else {
            tinyc_nm24_table_build(xr, blocks, table);
        }
#endif
        for (m0 = 0; m0 < m_len; m0 += TINYC_SPARSE_ROWS) {
            const int32_t n = tinyc_min_i32(TINYC_SPARSE_ROWS, m_len - m0);
#if TINYC_NM_TABLE
            if (rest == 0 && p->bias_folded != NULL) {  /* the usual case: whole blocks, nothing else */
                tinyc_nm_table_rows(acc, n, keep, blocks, table, &v, &pos);
                tinyc_sparse_finish_folded(&t, acc, n, m0, y + (size_t)r * m_len);
                continue;
            }
#endif
            for (i = 0; i < n; i++) {
                const int8_t *v0 = v;
                acc[i] = 0;
#if TINYC_NM_TABLE
                if (blocks > 0) {  /* moves v and pos on */
                    tinyc_nm_table_rows(acc + i, 1, keep, blocks, table, &v, &pos);
                }
#endif
                if (rest > 0) {
                    acc[i] = keep == 1 ? tinyc_nm14_rest(acc[i], v, pos, rest, table + 128 * blocks, xr + 4 * done)
                                       : tinyc_nm24_rest(acc[i], v, pos, rest, xr + 4 * done);
                    v += rest * keep;
                    pos += rest_bytes;
                }
                acc[i] -= tinyc_sparse_zp_term(&t, v0, groups * keep);
            }
            tinyc_sparse_finish_folded(&t, acc, n, m0, y + (size_t)r * m_len);
        }
    }
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
