/* tinyc_rnn.c: LSTM and GRU kernels, float32 and int8 (see tinyc_rnn.h and docs/rnn_int8.md).
 * The int8 kernels mirror tinyc/ops/rnn.py bit for bit: no float, int32 accumulators, int64 only
 * where a product or sum could leave int32. Right shifts of negative values are arithmetic (gcc). */
#include <math.h>

#include "tinyc_rnn.h"

#define TINYC_RNN_HALF 16384 /* rounding term of a product of two Q0.15 values */

/* ---- float32 ---- */

static float tinyc_rnn_dot_f32(const float *a, const float *b, int32_t n)
{
    float acc = 0.0f;
    int32_t k;
    for (k = 0; k < n; k++) {
        acc += a[k] * b[k];
    }
    return acc;
}

static float tinyc_rnn_sigmoid_f32(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

/* Gate pre-activation of one row: Wb + Rb + w.x + r.h (ONNX), b may be NULL. */
static float tinyc_rnn_gate_f32(const float *w, const float *r, const float *b, int32_t bias_stride,
                                int32_t row, const float *xt, const float *h, int32_t in, int32_t hid)
{
    float acc = b ? b[row] + b[bias_stride + row] : 0.0f;
    return acc + tinyc_rnn_dot_f32(w + row * in, xt, in) + tinyc_rnn_dot_f32(r + row * hid, h, hid);
}

static float tinyc_rnn_act_f32(const tinyc_rnn_f32_params *p, int32_t k, float v)
{
    const float a = p->act_alpha[k], b = p->act_beta[k];
    switch (p->act[k]) {
    case TINYC_RNN_ACT_SIGMOID: return tinyc_rnn_sigmoid_f32(v);
    case TINYC_RNN_ACT_TANH: return tanhf(v);
    case TINYC_RNN_ACT_RELU: return v > 0.0f ? v : 0.0f;
    case TINYC_RNN_ACT_AFFINE: return a * v + b;
    case TINYC_RNN_ACT_LEAKY_RELU: return v >= 0.0f ? v : a * v;
    case TINYC_RNN_ACT_THRESHOLDED_RELU: return v > a ? v : 0.0f;
    case TINYC_RNN_ACT_SCALED_TANH: return a * tanhf(b * v);
    case TINYC_RNN_ACT_HARD_SIGMOID: {
        const float s = a * v + b;
        return s < 0.0f ? 0.0f : (s > 1.0f ? 1.0f : s);
    }
    case TINYC_RNN_ACT_ELU: return v >= 0.0f ? v : a * expm1f(v);
    case TINYC_RNN_ACT_SOFTSIGN: return v / (1.0f + fabsf(v));
    default: return v > 0.0f ? v + log1pf(expf(-v)) : log1pf(expf(v)); /* softplus */
    }
}

/* Gate pre-activation clipped, then activation function k. */
static float tinyc_rnn_gate_act_f32(const tinyc_rnn_f32_params *p, int32_t k, float v)
{
    v = v < -p->clip ? -p->clip : (v > p->clip ? p->clip : v);
    return tinyc_rnn_act_f32(p, k, v);
}

/* Where one (direction, batch) sequence lives: its weights, bias, state offset and time order. */
typedef struct {
    const float *w, *r, *b;
    int32_t state;    /* offset of [d, n, 0] in [D, B, H] */
    int32_t act;      /* first activation of the direction */
    int32_t backward; /* 1: t runs T-1 .. 0 */
} tinyc_rnn_seq;

static tinyc_rnn_seq tinyc_rnn_seq_of(const tinyc_rnn_f32_params *p, const float *w, const float *r,
                                      const float *b, int32_t gates, int32_t funcs, int32_t d, int32_t n)
{
    const int32_t in = p->dims.input_size, hid = p->dims.hidden_size, gh = gates * hid;
    tinyc_rnn_seq s;
    s.w = w + d * gh * in;
    s.r = r + d * gh * hid;
    s.b = b ? b + d * 2 * gh : NULL;
    s.state = (d * p->batch + n) * hid;
    s.act = d * funcs;
    s.backward = d == 1 || p->reverse;
    return s;
}

/* x of step `step` of a sequence, and the y row it writes. */
static int32_t tinyc_rnn_time(const tinyc_rnn_f32_params *p, const tinyc_rnn_seq *s, int32_t step)
{
    return s->backward ? p->dims.seq_len - 1 - step : step;
}

static float *tinyc_rnn_y_row(const tinyc_rnn_f32_params *p, float *y, int32_t t, int32_t d, int32_t n)
{
    return y ? y + ((t * p->directions + d) * p->batch + n) * p->dims.hidden_size : NULL;
}

void tinyc_rnn_f32(const tinyc_rnn_f32_params *p, const float *x, const float *w, const float *r,
                   const float *b, const float *initial_h, float *y, float *y_h, void *scratch)
{
    const int32_t steps = p->dims.seq_len, in = p->dims.input_size, hid = p->dims.hidden_size;
    float *h = (float *)scratch;
    float *h_next = h + hid;
    int32_t d, n, step, j;
    for (d = 0; d < p->directions; d++) {
        for (n = 0; n < p->batch; n++) {
            const tinyc_rnn_seq s = tinyc_rnn_seq_of(p, w, r, b, 1, 1, d, n);
            for (j = 0; j < hid; j++) {
                h[j] = initial_h ? initial_h[s.state + j] : 0.0f;
            }
            for (step = 0; step < steps; step++) {
                const int32_t t = tinyc_rnn_time(p, &s, step);
                const float *xt = x + (t * p->batch + n) * in;
                float *yt = tinyc_rnn_y_row(p, y, t, d, n);
                float *swap;
                for (j = 0; j < hid; j++) {
                    h_next[j] = tinyc_rnn_gate_act_f32(p, s.act, tinyc_rnn_gate_f32(s.w, s.r, s.b, hid, j, xt, h, in, hid));
                }
                swap = h;
                h = h_next;
                h_next = swap;
                for (j = 0; yt && j < hid; j++) {
                    yt[j] = h[j];
                }
            }
            for (j = 0; y_h && j < hid; j++) {
                y_h[s.state + j] = h[j];
            }
        }
    }
}

void tinyc_lstm_f32(const tinyc_rnn_f32_params *p, const float *x, const float *w, const float *r,
                    const float *b, const float *initial_h, const float *initial_c, const float *peepholes,
                    float *y, float *y_h, float *y_c, void *scratch)
{
    const int32_t steps = p->dims.seq_len, in = p->dims.input_size, hid = p->dims.hidden_size;
    float *c = (float *)scratch;
    float *h = c + hid;
    float *h_next = h + hid;
    int32_t d, n, step, j, k;
    for (d = 0; d < p->directions; d++) {
        const float *pd = peepholes ? peepholes + d * 3 * hid : NULL; /* Pi, Po, Pf */
        for (n = 0; n < p->batch; n++) {
            const tinyc_rnn_seq s = tinyc_rnn_seq_of(p, w, r, b, 4, 3, d, n);
            for (j = 0; j < hid; j++) {
                h[j] = initial_h ? initial_h[s.state + j] : 0.0f;
                c[j] = initial_c ? initial_c[s.state + j] : 0.0f;
            }
            for (step = 0; step < steps; step++) {
                const int32_t t = tinyc_rnn_time(p, &s, step);
                const float *xt = x + (t * p->batch + n) * in;
                float *yt = tinyc_rnn_y_row(p, y, t, d, n);
                float *swap;
                for (j = 0; j < hid; j++) {
                    float gate[4], i, o, f, g;
                    for (k = 0; k < 4; k++) {
                        gate[k] = tinyc_rnn_gate_f32(s.w, s.r, s.b, 4 * hid, k * hid + j, xt, h, in, hid);
                    }
                    if (pd) { /* i and f see c(t-1), o sees c(t) */
                        gate[0] += pd[j] * c[j];
                        gate[2] += pd[2 * hid + j] * c[j];
                    }
                    i = tinyc_rnn_gate_act_f32(p, s.act, gate[0]);
                    f = p->input_forget ? 1.0f - i : tinyc_rnn_gate_act_f32(p, s.act, gate[2]);
                    g = tinyc_rnn_gate_act_f32(p, s.act + 1, gate[3]);
                    c[j] = f * c[j] + i * g;
                    if (pd) {
                        gate[1] += pd[hid + j] * c[j];
                    }
                    o = tinyc_rnn_gate_act_f32(p, s.act, gate[1]);
                    h_next[j] = o * tinyc_rnn_act_f32(p, s.act + 2, c[j]);
                }
                swap = h; /* h_next becomes h: the old h was needed by every unit of this step */
                h = h_next;
                h_next = swap;
                for (j = 0; yt && j < hid; j++) {
                    yt[j] = h[j];
                }
            }
            for (j = 0; j < hid; j++) {
                if (y_h) y_h[s.state + j] = h[j];
                if (y_c) y_c[s.state + j] = c[j];
            }
        }
    }
}

void tinyc_gru_f32(const tinyc_rnn_f32_params *p, const float *x, const float *w, const float *r,
                   const float *b, const float *initial_h, float *y, float *y_h, void *scratch)
{
    const int32_t steps = p->dims.seq_len, in = p->dims.input_size, hid = p->dims.hidden_size;
    const int32_t gh = 3 * hid;
    float *z = (float *)scratch;
    float *tmp = z + hid; /* r * h (linear_before_reset = 0) or n (= 1) */
    float *h = tmp + hid;
    int32_t d, n, step, j;
    for (d = 0; d < p->directions; d++) {
        for (n = 0; n < p->batch; n++) {
            const tinyc_rnn_seq s = tinyc_rnn_seq_of(p, w, r, b, 3, 2, d, n);
            for (j = 0; j < hid; j++) {
                h[j] = initial_h ? initial_h[s.state + j] : 0.0f;
            }
            for (step = 0; step < steps; step++) {
                const int32_t t = tinyc_rnn_time(p, &s, step);
                const float *xt = x + (t * p->batch + n) * in;
                float *yt = tinyc_rnn_y_row(p, y, t, d, n);
                /* Pass 1 reads all of the old h; pass 2 updates h[j] from z[j], tmp and h[j] only. */
                for (j = 0; j < hid; j++) {
                    const int32_t hrow = 2 * hid + j;
                    float reset = tinyc_rnn_gate_act_f32(p, s.act, tinyc_rnn_gate_f32(s.w, s.r, s.b, gh, hid + j, xt, h, in, hid));
                    z[j] = tinyc_rnn_gate_act_f32(p, s.act, tinyc_rnn_gate_f32(s.w, s.r, s.b, gh, j, xt, h, in, hid));
                    if (p->linear_before_reset) {
                        float rh = tinyc_rnn_dot_f32(s.r + hrow * hid, h, hid) + (s.b ? s.b[gh + hrow] : 0.0f);
                        tmp[j] = (s.b ? s.b[hrow] : 0.0f) + tinyc_rnn_dot_f32(s.w + hrow * in, xt, in) + reset * rh;
                    } else {
                        tmp[j] = reset * h[j];
                    }
                }
                for (j = 0; j < hid; j++) {
                    const int32_t hrow = 2 * hid + j;
                    float nv = p->linear_before_reset ? tmp[j]
                                                      : tinyc_rnn_gate_f32(s.w, s.r, s.b, gh, hrow, xt, tmp, in, hid);
                    h[j] = (1.0f - z[j]) * tinyc_rnn_gate_act_f32(p, s.act + 1, nv) + z[j] * h[j];
                }
                for (j = 0; yt && j < hid; j++) {
                    yt[j] = h[j];
                }
            }
            for (j = 0; y_h && j < hid; j++) {
                y_h[s.state + j] = h[j];
            }
        }
    }
}

/* ---- int8 ---- */

static int16_t tinyc_rnn_sat16(int64_t v)
{
    return (int16_t)(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
}


static inline int32_t tinyc_rnn_sat16_32(int32_t v)
{
    return v < -32768 ? -32768 : (v > 32767 ? 32767 : v); /* gcc: one SSAT on a DSP core */
}

/* sat32(a + b): QADD on a DSP core. */
static inline int32_t tinyc_rnn_qadd(int32_t a, int32_t b)
{
#if TINYC_HAS_DSP
    return __qadd(a, b);
#else
    const int64_t v = (int64_t)a + b;
    return (int32_t)(v < INT32_MIN ? INT32_MIN : (v > INT32_MAX ? INT32_MAX : v));
#endif
}

/* Below 2^31 - 2^15 in magnitude, c cannot pull a saturated a + b back into int16 range: when a + b
 * saturates to +-(2^31 - 1), both a + b + c and sat32(a + b) + c lie beyond +-2^15. */
#define TINYC_RNN_SMALL(c) ((c) > -0x7fff8000 && (c) < 0x7fff8000)

/* sat16(a + b + c) of the exact sum (int64 in the scheme): two saturating adds when c is small. */
static inline int16_t tinyc_rnn_sum3_sat16(int32_t a, int32_t b, int32_t c)
{
    if (TINYC_HAS_DSP && TINYC_RNN_SMALL(c)) return (int16_t)tinyc_rnn_sat16_32(tinyc_rnn_qadd(tinyc_rnn_qadd(a, b), c));
    return tinyc_rnn_sat16((int64_t)a + b + c);
}

/* Q0.15 x Q0.15 (or x Q3.12) rounded back by 15 bits; both in int16, so the product fits int32. */
static inline int32_t tinyc_rnn_mul_q15(int32_t a, int32_t b)
{
    return (a * b + TINYC_RNN_HALF) >> 15;
}

/* Q3.12 -> Q0.15 through a 257-entry table over [-8, 8): index = high 8 bits of x + 32768,
 * linear interpolation on the low 8 bits. */
static inline int32_t tinyc_rnn_act(const int16_t *table, int16_t x)
{
    const int32_t u = (int32_t)x + 32768;
    const int32_t i = u >> 8, frac = u & 255;
    const int32_t lo = table[i], hi = table[i + 1];
    return lo + (((hi - lo) * frac + 128) >> 8); /* between lo and hi: no saturation needed */
}

/* Q0.15 -> int8 at scale 1/128: rounding shift of 8, saturate. */
static int8_t tinyc_rnn_out_s8(int32_t h)
{
    return (int8_t)tinyc_clamp_i32((h + 128) >> 8, -128, 127);
}

/* GRU: h = (1 - z) tanh(n) + z h; |each product| <= 2^30, so the sum fits int32. */
static int16_t tinyc_rnn_gru_h(const tinyc_gru_s8_params *p, int32_t z, int32_t h, int16_t n)
{
    const int32_t h_tilde = tinyc_rnn_act(p->tanh_table, n);
    return (int16_t)(((32768 - z) * h_tilde + z * h + TINYC_RNN_HALF) >> 15);
}

/* Where the int16 vectors the gate products read (h, and the GRU's r h) keep unit j. The DSP path
 * stores each group of 4 units as 0, 2, 1, 3: one word then holds the operands of SXTB16's lanes
 * 0 and 2, the next those of lanes 1 and 3 (no repacking per row). Units past the last full group,
 * and every unit on the other paths, stay in place. */
#if TINYC_HAS_DSP && !TINYC_HAS_MVE
#define TINYC_RNN_PAIR_ORDER 1
#else
#define TINYC_RNN_PAIR_ORDER 0
#endif

static inline int32_t tinyc_rnn_pos(int32_t j, int32_t hid)
{
    if (TINYC_RNN_PAIR_ORDER && j < (hid & ~3)) return (j & ~3) | ((j & 1) << 1) | ((j >> 1) & 1);
    return j;
}

/* The gate products (~all of an RNN's work) read weights that tinyc stores in the order the kernel
 * walks them (tinyc/ops/rnn.py, packed_weights; docs/rnn_int8.md): per direction, every quad of 4
 * gate rows the kernel computes together, then the rows it computes alone, the block padded to 4
 * bytes. A quad of n columns: groups of 8 columns, each holding 8 weights of row 0, then of rows 1,
 * 2, 3 (32 bytes, word aligned), then the n % 8 last weights of row 0, 1, 2, 3. The sums are exact
 * int32 (the scheme bounds them), so any order of the products gives the same bits. MVE widens each
 * row's 8 weights in one load against 8 int16 lanes; DSP loads them with one LDRD, SXTB16 splits a
 * word into lanes (0, 2) and (1, 3), the int16 operand is paired to match (h is stored so, x by
 * SXTB16) and SMLAD adds two products. The operands are shared by the four rows. */

/* Bytes of a direction's packed block of rows x n weights. */
static int32_t tinyc_rnn_block_bytes(int32_t rows, int32_t n)
{
    return (rows * n + 3) & ~3;
}

#if TINYC_HAS_DSP && !TINYC_HAS_MVE
/* s += row . (e0, o0, e1, o1) over 8 columns, row advancing by 8 (one LDRD: word aligned). e0 holds
 * the int16 operands of columns 0 and 2, o0 of 1 and 3, e1 and o1 those of 4..7. In asm: gcc spills
 * the accumulators of the C form. */
#define TINYC_RNN_MAC8(row, e0, o0, e1, o1, s)                                                  \
    do {                                                                                        \
        int32_t w0_, w1_, t_;                                                                   \
        __asm__("ldrd %[w0], %[w1], [%[p]], #8\n\t"                                             \
                "sxtb16 %[t], %[w0]\n\t"                                                        \
                "smlad %[a], %[t], %[e0], %[a]\n\t"                                             \
                "sxtb16 %[w0], %[w0], ror #8\n\t"                                               \
                "smlad %[a], %[w0], %[o0], %[a]\n\t"                                            \
                "sxtb16 %[t], %[w1]\n\t"                                                        \
                "smlad %[a], %[t], %[e1], %[a]\n\t"                                             \
                "sxtb16 %[w1], %[w1], ror #8\n\t"                                               \
                "smlad %[a], %[w1], %[o1], %[a]"                                                \
                : [w0] "=&r"(w0_), [w1] "=&r"(w1_), [t] "=&r"(t_), [p] "+r"(row), [a] "+r"(s)   \
                : [e0] "r"(e0), [o0] "r"(o0), [e1] "r"(e1), [o1] "r"(o1));                      \
    } while (0)

/* acc + w . (e, o) over 4 weights from any address. */
static inline int32_t tinyc_rnn_mac4(int32_t acc, const int8_t *w, int32_t e, int32_t o)
{
    const int32_t v = tinyc_load4(w);
    return __smlad(tinyc_sxtb16_odd(v), o, __smlad(__sxtb16(v), e, acc));
}

/* Two int16 values from any 2-aligned address (scratch vectors of odd H): one unaligned LDR. */
static inline int32_t tinyc_rnn_load2(const int16_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* h[0..7] (word aligned: the cells' scratch places h so) as four words: two LDRD. */
static inline void tinyc_rnn_load_h8(const int16_t *h, int32_t *e0, int32_t *o0, int32_t *e1, int32_t *o1)
{
    int32_t a, b, c, d;
    __asm__("ldrd %0, %1, [%4]\n\t"
            "ldrd %2, %3, [%4, #8]"
            : "=&r"(a), "=&r"(b), "=&r"(c), "=r"(d) : "r"(h), "m"(*(const int16_t(*)[8])h));
    *e0 = a;
    *o0 = b;
    *e1 = c;
    *o1 = d;
}

/* The int16 operand pairs of x[k..k+3] - zp: lanes (0, 2) and (1, 3). */
static inline void tinyc_rnn_x_pairs(const int8_t *x, int32_t zp2, int32_t *e, int32_t *o)
{
    const int32_t v = tinyc_load4(x);
    *e = __ssub16(__sxtb16(v), zp2);
    *o = __ssub16(tinyc_sxtb16_odd(v), zp2);
}
#endif

/* acc[0..3] = the quad q (n columns) . (x - input_zp), x int8. */
static void tinyc_rnn_quad_x(const int8_t *q, const int8_t *x, int32_t input_zp, int32_t n, int32_t acc[4])
{
    const int32_t groups = n >> 3, rem = n & 7;
    const int8_t *tail = q + 32 * groups, *p = q;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, g, k = 8 * groups;
#if TINYC_HAS_MVE
    for (g = 0; g < groups; g++, p += 32) {
        const int16x8_t xv = vsubq_n_s16(vldrbq_s16(x + 8 * g), (int16_t)input_zp);
        s0 = vmladavaq_s16(s0, vldrbq_s16(p), xv);
        s1 = vmladavaq_s16(s1, vldrbq_s16(p + 8), xv);
        s2 = vmladavaq_s16(s2, vldrbq_s16(p + 16), xv);
        s3 = vmladavaq_s16(s3, vldrbq_s16(p + 24), xv);
    }
    if (rem) {
        const mve_pred16_t pr = vctp16q((uint32_t)rem);
        /* lanes past n: weight 0 (zeroing load), so x - zp there adds nothing */
        const int16x8_t xv = vsubq_n_s16(vldrbq_z_s16(x + k, pr), (int16_t)input_zp);
        s0 = vmladavaq_s16(s0, vldrbq_z_s16(tail, pr), xv);
        s1 = vmladavaq_s16(s1, vldrbq_z_s16(tail + rem, pr), xv);
        s2 = vmladavaq_s16(s2, vldrbq_z_s16(tail + 2 * rem, pr), xv);
        s3 = vmladavaq_s16(s3, vldrbq_z_s16(tail + 3 * rem, pr), xv);
        k = n;
    }
#elif TINYC_HAS_DSP
    const int32_t zp2 = (int32_t)(((uint32_t)input_zp & 0xffffu) * 0x10001u); /* zp in both int16 lanes */
    for (g = 0; g < groups; g++) {
        int32_t e0, o0, e1, o1;
        tinyc_rnn_x_pairs(x + 8 * g, zp2, &e0, &o0);
        tinyc_rnn_x_pairs(x + 8 * g + 4, zp2, &e1, &o1);
        TINYC_RNN_MAC8(p, e0, o0, e1, o1, s0);
        TINYC_RNN_MAC8(p, e0, o0, e1, o1, s1);
        TINYC_RNN_MAC8(p, e0, o0, e1, o1, s2);
        TINYC_RNN_MAC8(p, e0, o0, e1, o1, s3);
    }
    if (rem >= 4) {
        int32_t e, o;
        tinyc_rnn_x_pairs(x + k, zp2, &e, &o);
        s0 = tinyc_rnn_mac4(s0, tail, e, o);
        s1 = tinyc_rnn_mac4(s1, tail + rem, e, o);
        s2 = tinyc_rnn_mac4(s2, tail + 2 * rem, e, o);
        s3 = tinyc_rnn_mac4(s3, tail + 3 * rem, e, o);
        k += 4;
    }
#else
    for (g = 0; g < groups; g++, p += 32) {
        int32_t c;
        for (c = 0; c < 8; c++) {
            const int32_t v = (int32_t)x[8 * g + c] - input_zp;
            s0 += p[c] * v;
            s1 += p[8 + c] * v;
            s2 += p[16 + c] * v;
            s3 += p[24 + c] * v;
        }
    }
#endif
    for (; k < n; k++) {
        const int32_t v = (int32_t)x[k] - input_zp, c = k - 8 * groups;
        s0 += tail[c] * v;
        s1 += tail[rem + c] * v;
        s2 += tail[2 * rem + c] * v;
        s3 += tail[3 * rem + c] * v;
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}

/* acc[0..3] = the quad q (n columns) . h, h int16 (Q0.15) in tinyc_rnn_pos order, word aligned. */
static void tinyc_rnn_quad_h(const int8_t *q, const int16_t *h, int32_t n, int32_t acc[4])
{
    const int32_t groups = n >> 3, rem = n & 7;
    const int8_t *tail = q + 32 * groups, *p = q;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, g, k = 8 * groups;
#if TINYC_HAS_MVE
    for (g = 0; g < groups; g++, p += 32) {
        const int16x8_t hv = vldrhq_s16(h + 8 * g);
        s0 = vmladavaq_s16(s0, vldrbq_s16(p), hv);
        s1 = vmladavaq_s16(s1, vldrbq_s16(p + 8), hv);
        s2 = vmladavaq_s16(s2, vldrbq_s16(p + 16), hv);
        s3 = vmladavaq_s16(s3, vldrbq_s16(p + 24), hv);
    }
    if (rem) {
        const mve_pred16_t pr = vctp16q((uint32_t)rem);
        const int16x8_t hv = vldrhq_z_s16(h + k, pr);
        s0 = vmladavaq_s16(s0, vldrbq_z_s16(tail, pr), hv);
        s1 = vmladavaq_s16(s1, vldrbq_z_s16(tail + rem, pr), hv);
        s2 = vmladavaq_s16(s2, vldrbq_z_s16(tail + 2 * rem, pr), hv);
        s3 = vmladavaq_s16(s3, vldrbq_z_s16(tail + 3 * rem, pr), hv);
        k = n;
    }
#elif TINYC_HAS_DSP
    for (g = 0; g < groups; g++) {
        int32_t e0, o0, e1, o1;
        tinyc_rnn_load_h8(h + 8 * g, &e0, &o0, &e1, &o1);
        TINYC_RNN_MAC8(p, e0, o0, e1, o1, s0);
        TINYC_RNN_MAC8(p, e0, o0, e1, o1, s1);
        TINYC_RNN_MAC8(p, e0, o0, e1, o1, s2);
        TINYC_RNN_MAC8(p, e0, o0, e1, o1, s3);
    }
    if (rem >= 4) { /* columns k .. k+3 are a full group of 4 in h's pair order */
        const int32_t e = tinyc_rnn_load2(h + k), o = tinyc_rnn_load2(h + k + 2);
        s0 = tinyc_rnn_mac4(s0, tail, e, o);
        s1 = tinyc_rnn_mac4(s1, tail + rem, e, o);
        s2 = tinyc_rnn_mac4(s2, tail + 2 * rem, e, o);
        s3 = tinyc_rnn_mac4(s3, tail + 3 * rem, e, o);
        k += 4;
    }
#else
    for (g = 0; g < groups; g++, p += 32) {
        int32_t c;
        for (c = 0; c < 8; c++) {
            const int32_t v = h[8 * g + c];
            s0 += p[c] * v;
            s1 += p[8 + c] * v;
            s2 += p[16 + c] * v;
            s3 += p[24 + c] * v;
        }
    }
#endif
    for (; k < n; k++) { /* past the last full group of 4: h in natural order */
        const int32_t v = h[k], c = k - 8 * groups;
        s0 += tail[c] * v;
        s1 += tail[rem + c] * v;
        s2 += tail[2 * rem + c] * v;
        s3 += tail[3 * rem + c] * v;
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}

/* One row w (n columns, in order) . (x - input_zp). */
static int32_t tinyc_rnn_row_x(const int8_t *w, const int8_t *x, int32_t input_zp, int32_t n)
{
    int32_t s = 0, k = 0;
#if TINYC_HAS_MVE
    for (; k < n; k += 8) {
        const mve_pred16_t pr = vctp16q((uint32_t)(n - k));
        s = vmladavaq_s16(s, vldrbq_z_s16(w + k, pr), vsubq_n_s16(vldrbq_z_s16(x + k, pr), (int16_t)input_zp));
    }
#elif TINYC_HAS_DSP
    const int32_t zp2 = (int32_t)(((uint32_t)input_zp & 0xffffu) * 0x10001u);
    for (; k + 4 <= n; k += 4) {
        int32_t e, o;
        tinyc_rnn_x_pairs(x + k, zp2, &e, &o);
        s = tinyc_rnn_mac4(s, w + k, e, o);
    }
#endif
    for (; k < n; k++) {
        s += w[k] * ((int32_t)x[k] - input_zp);
    }
    return s;
}

/* One row w (n columns, in order) . h (tinyc_rnn_pos order). */
static int32_t tinyc_rnn_row_h(const int8_t *w, const int16_t *h, int32_t n)
{
    int32_t s = 0, k = 0;
#if TINYC_HAS_MVE
    for (; k < n; k += 8) {
        const mve_pred16_t pr = vctp16q((uint32_t)(n - k));
        s = vmladavaq_s16(s, vldrbq_z_s16(w + k, pr), vldrhq_z_s16(h + k, pr));
    }
#elif TINYC_HAS_DSP
    for (; k + 4 <= n; k += 4) {
        s = tinyc_rnn_mac4(s, w + k, tinyc_rnn_load2(h + k), tinyc_rnn_load2(h + k + 2));
    }
#endif
    for (; k < n; k++) {
        s += w[k] * h[k];
    }
    return s;
}

/* tinyc_requantize, bit for bit (tests/host/test_rnn_requant_c.py holds the proof), a left or a right
 * shift per call instead of both: ~half its instructions, twice per gate row and step. */
static inline int32_t tinyc_rnn_requant_x(const tinyc_requant_pc *q, int32_t row, int32_t acc)
{
    const int32_t m = q->multiplier[row], shift = q->shift[row];
    if (shift >= 0) {
        int32_t a = (int32_t)((uint32_t)acc << shift);
        a = (a >> shift) != acc ? (acc >> 31) ^ INT32_MAX : a; /* the left shift saturated */
        return (int32_t)(((int64_t)a * m + ((int64_t)1 << 30)) >> 31);
    } else {
        /* rounding right shift, halves away from zero; unsigned: rem + half cannot overflow */
        const int32_t r = -shift;
        const int32_t hi = (int32_t)(((int64_t)acc * m + ((int64_t)1 << 30)) >> 31);
        const uint32_t mask = (1u << r) - 1u;
        return (hi >> r) + (int32_t)((((uint32_t)hi & mask) + (1u << (r - 1)) - (uint32_t)(hi < 0)) >> r);
    }
}

static int32_t tinyc_rnn_state_in(const tinyc_rnn_state_q *q, int8_t v)
{
    return tinyc_requantize((int32_t)v - q->zero_point, q->multiplier, q->shift);
}

/* One (direction, batch) sequence of an int8 cell: its packed weights (quads = how many quads they
 * start with), bias, requantizations and time order. */
typedef struct {
    const int8_t *w, *r;
    int32_t quads;
    const int32_t *bias;          /* 4H entries */
    tinyc_requant_pc in_q, hid_q; /* the direction's G*H rows */
    int32_t d, n;
    int32_t backward; /* 1: t runs T-1 .. 0 */
} tinyc_rnn_seq_s8;

static tinyc_rnn_seq_s8 tinyc_rnn_seq_s8_of(const tinyc_rnn_dims *dims, int32_t reverse, int32_t gates,
                                            const tinyc_requant_pc *in_q, const tinyc_requant_pc *hid_q,
                                            const int32_t *w, const int32_t *r, const int32_t *bias,
                                            int32_t d, int32_t n)
{
    const int32_t hid = dims->hidden_size, gh = gates * hid;
    tinyc_rnn_seq_s8 s;
    s.w = (const int8_t *)w + d * tinyc_rnn_block_bytes(gh, dims->input_size);
    s.r = (const int8_t *)r + d * tinyc_rnn_block_bytes(gh, hid);
    s.quads = gates == 4 ? hid : hid / 2 + hid / 4; /* LSTM: one per unit; GRU: z, r by 2 units, n by 4 */
    s.bias = bias + d * 4 * hid;
    s.in_q.multiplier = in_q->multiplier + d * gh;
    s.in_q.shift = in_q->shift + d * gh;
    s.hid_q.multiplier = hid_q->multiplier + d * gh;
    s.hid_q.shift = hid_q->shift + d * gh;
    s.d = d;
    s.n = n;
    s.backward = d == 1 || reverse;
    return s;
}

/* Where the next quad and the next lone row of a sequence's packed weights start. */
typedef struct {
    const int8_t *wq, *rq, *w1, *r1;
} tinyc_rnn_walk;

static tinyc_rnn_walk tinyc_rnn_walk_of(const tinyc_rnn_seq_s8 *s, int32_t in, int32_t hid)
{
    tinyc_rnn_walk k;
    k.wq = s->w;
    k.rq = s->r;
    k.w1 = s->w + s->quads * 4 * in;
    k.r1 = s->r + s->quads * 4 * hid;
    return k;
}

/* The next quad, gate rows row[0..3]: requant(W x - zp) in wx[], requant(R v) in rv[] (v = h, or
 * r h for the GRU's candidate rows). */
static void tinyc_rnn_quad_s8(const tinyc_rnn_seq_s8 *s, tinyc_rnn_walk *walk, const int32_t row[4], int32_t in,
                              int32_t hid, const int8_t *xt, int32_t input_zp, const int16_t *v,
                              int32_t wx[4], int32_t rv[4])
{
    int32_t k;
    tinyc_rnn_quad_x(walk->wq, xt, input_zp, in, wx);
    tinyc_rnn_quad_h(walk->rq, v, hid, rv);
    walk->wq += 4 * in;
    walk->rq += 4 * hid;
    for (k = 0; k < 4; k++) {
        wx[k] = tinyc_rnn_requant_x(&s->in_q, row[k], wx[k]);
        rv[k] = tinyc_rnn_requant_x(&s->hid_q, row[k], rv[k]);
    }
}

/* The next lone gate row, as tinyc_rnn_quad_s8. */
static void tinyc_rnn_row_s8(const tinyc_rnn_seq_s8 *s, tinyc_rnn_walk *walk, int32_t row, int32_t in, int32_t hid,
                             const int8_t *xt, int32_t input_zp, const int16_t *v, int32_t *wx, int32_t *rv)
{
    *wx = tinyc_rnn_requant_x(&s->in_q, row, tinyc_rnn_row_x(walk->w1, xt, input_zp, in));
    *rv = tinyc_rnn_requant_x(&s->hid_q, row, tinyc_rnn_row_h(walk->r1, v, hid));
    walk->w1 += in;
    walk->r1 += hid;
}

static void tinyc_lstm_seq_s8(const tinyc_lstm_s8_params *p, const tinyc_rnn_seq_s8 *s, const int8_t *x,
                              const int8_t *initial_h, const int8_t *initial_c,
                              int8_t *y, int8_t *y_h, int8_t *y_c, void *scratch)
{
    const int32_t steps = p->dims.seq_len, in = p->dims.input_size, hid = p->dims.hidden_size;
    const int32_t state = (s->d * p->batch + s->n) * hid; /* offset of [d, n, 0] in [D, B, H] */
    const int32_t *bias = s->bias;
    int32_t *c = (int32_t *)scratch;
    int16_t *h = (int16_t *)(c + hid);
    int16_t *h_next = h + ((hid + 1) & ~1); /* word aligned, as h: the DSP path loads it with LDRD */
    int32_t step, j, k;
    for (j = 0; j < hid; j++) {
        h[tinyc_rnn_pos(j, hid)] = initial_h ? tinyc_rnn_sat16(tinyc_rnn_state_in(&p->initial_h, initial_h[state + j])) : 0;
        c[j] = initial_c ? tinyc_rnn_state_in(&p->initial_c, initial_c[state + j]) : 0;
    }
    for (step = 0; step < steps; step++) {
        const int32_t t = s->backward ? steps - 1 - step : step;
        const int8_t *xt = x + (t * p->batch + s->n) * in;
        tinyc_rnn_walk walk = tinyc_rnn_walk_of(s, in, hid);
        int16_t *swap;
        for (j = 0; j < hid; j++) {
            const int32_t row[4] = {j, hid + j, 2 * hid + j, 3 * hid + j}; /* gates i, o, f, c of unit j */
            int32_t wx[4], rh[4], gate[4];
            int32_t i, o, f, g;
            int64_t cell;
            tinyc_rnn_quad_s8(s, &walk, row, in, hid, xt, p->input_zp, h, wx, rh);
            for (k = 0; k < 4; k++) {
                gate[k] = tinyc_rnn_sum3_sat16(wx[k], rh[k], bias[row[k]]);
            }
            i = tinyc_rnn_act(p->sigmoid_table, (int16_t)gate[0]);
            o = tinyc_rnn_act(p->sigmoid_table, (int16_t)gate[1]);
            f = tinyc_rnn_act(p->sigmoid_table, (int16_t)gate[2]);
            g = tinyc_rnn_act(p->tanh_table, (int16_t)gate[3]);
            /* c = f c + i g in Q.15; f c needs int64 since c grows past int16. */
            cell = ((int64_t)f * c[j] + TINYC_RNN_HALF) >> 15; /* |f c| < 2^46: fits int32 after the shift */
            c[j] = tinyc_rnn_qadd((int32_t)cell, tinyc_rnn_mul_q15(i, g));
            /* tanh takes c in Q3.12: rounding shift of 3, saturated to int16 (c + 4 saturated at
             * 2^31 - 1 still gives 32767) */
            h_next[tinyc_rnn_pos(j, hid)] = (int16_t)tinyc_rnn_mul_q15(o, tinyc_rnn_act(p->tanh_table,
                                                   (int16_t)tinyc_rnn_sat16_32(tinyc_rnn_qadd(c[j], 4) >> 3)));
        }
        swap = h;
        h = h_next;
        h_next = swap;
        for (j = 0; y && j < hid; j++) {
            y[((t * p->directions + s->d) * p->batch + s->n) * hid + j] = tinyc_rnn_out_s8(h[tinyc_rnn_pos(j, hid)]);
        }
    }
    for (j = 0; j < hid; j++) {
        if (y_h) y_h[state + j] = tinyc_rnn_out_s8(h[tinyc_rnn_pos(j, hid)]);
        if (y_c) {
            int32_t v = tinyc_requantize(c[j], p->cell_out.multiplier, p->cell_out.shift) + p->cell_out.zero_point;
            y_c[state + j] = (int8_t)tinyc_clamp_i32(v, -128, 127);
        }
    }
}

void tinyc_lstm_s8(const tinyc_lstm_s8_params *p, const int8_t *x, const int32_t *bias, const int8_t *initial_h,
                   const int8_t *initial_c, int8_t *y, int8_t *y_h, int8_t *y_c, void *scratch)
{
    int32_t d, n;
    for (d = 0; d < p->directions; d++) {
        for (n = 0; n < p->batch; n++) {
            const tinyc_rnn_seq_s8 s = tinyc_rnn_seq_s8_of(&p->dims, p->reverse, 4, &p->input_requant,
                                                           &p->hidden_requant, p->w, p->r, bias, d, n);
            tinyc_lstm_seq_s8(p, &s, x, initial_h, initial_c, y, y_h, y_c, scratch);
        }
    }
}

static void tinyc_gru_seq_s8(const tinyc_gru_s8_params *p, const tinyc_rnn_seq_s8 *s, const int8_t *x,
                             const int8_t *initial_h, int8_t *y, int8_t *y_h, void *scratch)
{
    const int32_t steps = p->dims.seq_len, in = p->dims.input_size, hid = p->dims.hidden_size;
    const int32_t state = (s->d * p->batch + s->n) * hid;
    const int32_t *bias = s->bias;
    const int32_t *rec_bias_h = bias + 3 * hid; /* Rb_h, Q3.12 */
    int16_t *tmp = (int16_t *)scratch; /* r * h (linear_before_reset = 0), r then n (= 1) */
    int16_t *h = tmp + ((hid + 1) & ~1); /* word aligned, as tmp: the DSP path loads them with LDRD */
    int16_t *z = h + ((hid + 1) & ~1);
    int32_t step, j, k;
    for (j = 0; j < hid; j++) {
        h[tinyc_rnn_pos(j, hid)] = initial_h ? tinyc_rnn_sat16(tinyc_rnn_state_in(&p->initial_h, initial_h[state + j])) : 0;
    }
    for (step = 0; step < steps; step++) {
        const int32_t t = s->backward ? steps - 1 - step : step;
        const int8_t *xt = x + (t * p->batch + s->n) * in;
        tinyc_rnn_walk walk = tinyc_rnn_walk_of(s, in, hid);
        /* Pass 1: gates z and r of units j, j+1 (all of the old h); an odd last unit's rows alone. */
        for (j = 0; j < hid; j += 2) {
            const int32_t count = hid - j >= 2 ? 2 : 1;
            const int32_t row[4] = {j, j + 1, hid + j, hid + j + 1};
            int32_t wx[4], rh[4];
            if (count == 2) {
                tinyc_rnn_quad_s8(s, &walk, row, in, hid, xt, p->input_zp, h, wx, rh);
            } else {
                tinyc_rnn_row_s8(s, &walk, row[0], in, hid, xt, p->input_zp, h, &wx[0], &rh[0]);
                tinyc_rnn_row_s8(s, &walk, row[2], in, hid, xt, p->input_zp, h, &wx[2], &rh[2]);
            }
            for (k = 0; k < count; k++) {
                const int32_t reset = tinyc_rnn_act(p->sigmoid_table,
                                                    tinyc_rnn_sum3_sat16(wx[2 + k], rh[2 + k], bias[hid + j + k]));
                z[j + k] = (int16_t)tinyc_rnn_act(p->sigmoid_table, tinyc_rnn_sum3_sat16(wx[k], rh[k], bias[j + k]));
                const int32_t at = tinyc_rnn_pos(j + k, hid);
                tmp[at] = (int16_t)(p->linear_before_reset ? reset : tinyc_rnn_mul_q15(reset, h[at]));
            }
        }
        /* Pass 2: the candidate rows n (linear_before_reset = 1: over the old h, into tmp; = 0: over r h,
         * then h updated in place, which no later product reads). */
        for (j = 0; j < hid;) {
            const int32_t count = hid - j >= 4 ? 4 : 1;
            const int32_t row[4] = {2 * hid + j, 2 * hid + j + 1, 2 * hid + j + 2, 2 * hid + j + 3};
            const int16_t *v = p->linear_before_reset ? h : tmp;
            int32_t wx[4], rv[4];
            if (count == 4) {
                tinyc_rnn_quad_s8(s, &walk, row, in, hid, xt, p->input_zp, v, wx, rv);
            } else {
                tinyc_rnn_row_s8(s, &walk, row[0], in, hid, xt, p->input_zp, v, &wx[0], &rv[0]);
            }
            for (k = 0; k < count; k++, j++) {
                const int32_t hrow = 2 * hid + j, at = tinyc_rnn_pos(j, hid);
                if (p->linear_before_reset) {
                    /* n = Wx + Wb_h + r (R h + Rb_h), the bracket saturated to Q3.12 */
                    const int16_t inner = (int16_t)tinyc_rnn_sat16_32(tinyc_rnn_qadd(rv[k], rec_bias_h[j]));
                    tmp[at] = tinyc_rnn_sum3_sat16(wx[k], tinyc_rnn_mul_q15(tmp[at], inner), bias[hrow]);
                } else {
                    /* n = Wx + Wb_h + R (r h) + Rb_h */
                    const int32_t b1 = bias[hrow], b2 = rec_bias_h[j]; /* both below 2^30 - 2^14: b1 + b2 small */
                    const int16_t n = b1 > -0x3fffc000 && b1 < 0x3fffc000 && b2 > -0x3fffc000 && b2 < 0x3fffc000
                                      ? tinyc_rnn_sum3_sat16(wx[k], rv[k], b1 + b2)
                                      : tinyc_rnn_sat16((int64_t)wx[k] + rv[k] + b1 + b2);
                    h[at] = tinyc_rnn_gru_h(p, z[j], h[at], n);
                }
            }
        }
        for (j = 0; p->linear_before_reset && j < hid; j++) {
            const int32_t at = tinyc_rnn_pos(j, hid);
            h[at] = tinyc_rnn_gru_h(p, z[j], h[at], tmp[at]);
        }
        for (j = 0; y && j < hid; j++) {
            y[((t * p->directions + s->d) * p->batch + s->n) * hid + j] = tinyc_rnn_out_s8(h[tinyc_rnn_pos(j, hid)]);
        }
    }
    for (j = 0; y_h && j < hid; j++) {
        y_h[state + j] = tinyc_rnn_out_s8(h[tinyc_rnn_pos(j, hid)]);
    }
}

void tinyc_gru_s8(const tinyc_gru_s8_params *p, const int8_t *x, const int32_t *bias, const int8_t *initial_h,
                  int8_t *y, int8_t *y_h, void *scratch)
{
    int32_t d, n;
    for (d = 0; d < p->directions; d++) {
        for (n = 0; n < p->batch; n++) {
            const tinyc_rnn_seq_s8 s = tinyc_rnn_seq_s8_of(&p->dims, p->reverse, 3, &p->input_requant,
                                                           &p->hidden_requant, p->w, p->r, bias, d, n);
            tinyc_gru_seq_s8(p, &s, x, initial_h, y, y_h, scratch);
        }
    }
}

/* ---- TFLM's integer LSTM -------------------------------------------------------------------------- */

/* sigmoid(k/24) in 0.16, k = 0..255: TFLite's sigmoid_table_uint16 (tensorflow/lite/kernels/internal/common.h). */
static const uint16_t tinyc_tflm_sigmoid_table[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535};

/* reference_integer_ops::Logistic(0, 0, ...): Q3.12 -> Q0.15. */
static int16_t tinyc_tflm_sigmoid(int16_t x)
{
    int32_t v = (int32_t)x * 3;
    uint32_t a = (uint32_t)(v < 0 ? -v : v);
    uint32_t uh = a >> 9;
    uint32_t res;
    if (uh >= 255u) {
        res = 0x7FFFu << 10;
    } else {
        uint32_t ua = tinyc_tflm_sigmoid_table[uh], ub = tinyc_tflm_sigmoid_table[uh + 1];
        res = (ua << 9) + (a & 0x1FFu) * (ub - ua);
    }
    res = v >= 0 ? res + (1u << 9) : (1u << 25) - res + (1u << 9) - 1u;
    return (int16_t)(res >> 10);
}

/* reference_integer_ops::Tanh(multiplier, left_shift, ...): int16 -> Q0.15. */
static int16_t tinyc_tflm_tanh(int16_t x, int32_t multiplier, int32_t left_shift)
{
    int32_t rnd, v, res;
    uint32_t a, uh;
    if (multiplier == 0) {
        multiplier = 3 << left_shift;
        left_shift = 0;
    }
    rnd = left_shift > 0 ? 1 << (left_shift - 1) : 0;
    v = ((int32_t)x * multiplier + rnd) >> left_shift;
    a = (uint32_t)(v < 0 ? -v : v);
    uh = a >> 8;
    if (uh >= 255u) {
        res = (int32_t)(0xFFFFu << 8);
    } else {
        uint32_t ua = tinyc_tflm_sigmoid_table[uh], ub = tinyc_tflm_sigmoid_table[uh + 1];
        res = (int32_t)((ua << 8) + (a & 0xFFu) * (ub - ua));
    }
    res = v >= 0 ? res - (1 << 23) + (1 << 7) : -res + (1 << 23) + (1 << 7) - 1;
    return (int16_t)(res >> 8);
}

static int16_t tinyc_tflm_sat16(int32_t v)
{
    return (int16_t)tinyc_clamp_i32(v, -32768, 32767);
}

void tinyc_lstm_tflm_s8(const tinyc_lstm_tflm_s8_params *p, const int8_t *x, const int8_t *w, const int8_t *r,
                        const int32_t *bias, int8_t *y, void *scratch)
{
    const int32_t steps = p->dims.seq_len, n_in = p->dims.input_size, hid = p->dims.hidden_size;
    const int32_t batch = p->batch;
    int16_t *c = (int16_t *)scratch;
    int16_t *gates = c + hid; /* 4*H: i, o, f, g */
    int8_t *h = (int8_t *)(gates + 4 * hid);
    int32_t b, t, j, k, row;
    for (b = 0; b < batch; b++) {
        for (j = 0; j < hid; j++) {
            c[j] = 0;
            h[j] = (int8_t)p->hidden_zp;
        }
        for (t = 0; t < steps; t++) {
            const int8_t *xt = x + ((size_t)t * batch + b) * n_in;
            int8_t *yt = y + ((size_t)t * batch + b) * hid;
            for (row = 0; row < 4 * hid; row++) {
                const int32_t gate = row / hid;
                const int8_t *wr = w + (size_t)row * n_in;
                const int8_t *rr = r + (size_t)row * hid;
                int32_t acc_x = bias[row], acc_h = 0, fx, fh;
                for (k = 0; k < n_in; k++) {
                    acc_x += (int32_t)wr[k] * ((int32_t)xt[k] - p->input_zp);
                }
                for (k = 0; k < hid; k++) {
                    acc_h += (int32_t)rr[k] * ((int32_t)h[k] - p->hidden_zp);
                }
                fx = tinyc_tflm_sat16(tinyc_requantize(acc_x, p->input_multiplier[gate], p->input_shift[gate]));
                fh = tinyc_tflm_sat16(tinyc_requantize(acc_h, p->hidden_multiplier[gate], p->hidden_shift[gate]));
                gates[row] = tinyc_tflm_sat16(fx + fh);
            }
            for (j = 0; j < hid; j++) {
                const int32_t gi = tinyc_tflm_sigmoid(gates[j]);
                const int32_t go = tinyc_tflm_sigmoid(gates[hid + j]);
                const int32_t gf = tinyc_tflm_sigmoid(gates[2 * hid + j]);
                const int32_t gg = p->cell_gate_sigmoid ? tinyc_tflm_sigmoid(gates[3 * hid + j])
                                                        : tinyc_tflm_tanh(gates[3 * hid + j], 0, 0);
                int32_t cj = tinyc_tflm_sat16(tinyc_requantize(gf * c[j], p->forget_cell_multiplier,
                                                               p->forget_cell_shift));
                int32_t ig = tinyc_tflm_sat16(tinyc_requantize(gi * gg, p->input_cell_multiplier,
                                                               p->input_cell_shift));
                int32_t th;
                cj = tinyc_tflm_sat16(cj + ig);
                if (p->cell_clip > 0) {
                    cj = tinyc_clamp_i32(cj, -p->cell_clip, p->cell_clip);
                }
                c[j] = (int16_t)cj;
                th = tinyc_tflm_tanh((int16_t)cj, p->cell_tanh_multiplier, p->cell_tanh_shift);
                yt[j] = (int8_t)tinyc_clamp_i32(tinyc_requantize(th * go, p->output_multiplier, p->output_shift)
                                                + p->hidden_zp, -128, 127);
            }
            for (j = 0; j < hid; j++) {
                h[j] = yt[j];
            }
        }
    }
}
