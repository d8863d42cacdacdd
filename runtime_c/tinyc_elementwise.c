/* tinyc_elementwise.c: see tinyc_elementwise.h. Portable C99; no scratch, no float in _s8. */
#include <float.h>
#include <math.h>

#include "tinyc_elementwise.h"
#include "tinyc_vec_requant.h"

/* The fast loops stay out of line: inlined into the row walk they would spill their constants. */
#if defined(__GNUC__)
#define TINYC_ELEM_NOINLINE __attribute__((noinline))
#else
#define TINYC_ELEM_NOINLINE
#endif
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
#define TINYC_ELEM_UNROLL4 _Pragma("GCC unroll 4")
#else
#define TINYC_ELEM_UNROLL4
#endif

/* Element offsets of A and B where output row r starts; a row is one pass of the innermost
 * loop, rows count the three outer loops. The output is written in order, each element after
 * its inputs are read, which keeps y aliasing a same-shape input safe. */
static void row_start(const int32_t *d, const int32_t *sa, const int32_t *sb, int32_t r,
                      int32_t *oa, int32_t *ob)
{
    const int32_t i2 = r % d[2], i1 = (r / d[2]) % d[1], i0 = r / (d[2] * d[1]);
    *oa = i0 * sa[0] + i1 * sa[1] + i2 * sa[2];
    *ob = i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
}

#if TINYC_HAS_MVE
/* True when strides s walk dims d as one contiguous run (a size-1 dim's stride does not matter). */
static int contiguous(const int32_t *d, const int32_t *s)
{
    int32_t k, run = 1;
    for (k = 3; k >= 0; --k) {
        if (d[k] > 1 && s[k] != run) {
            return 0;
        }
        run *= d[k];
    }
    return 1;
}

#endif

/* Output rows and row length of a binary int8 loop. With Helium one row of everything when neither input
 * broadcasts (the same elements in the same order; short rows would leave the vectors part empty). */
static int32_t binary_rows(const int32_t *d, const int32_t *sa, const int32_t *sb, int32_t *n)
{
#if TINYC_HAS_MVE
    if (contiguous(d, sa) && contiguous(d, sb)) {
        *n = d[0] * d[1] * d[2] * d[3];
        return 1;
    }
#else
    (void)sa, (void)sb;
#endif
    *n = d[3];
    return d[0] * d[1] * d[2];
}

/* Clamp to [lo, hi], max applied last (min > max gives max, as ONNX Clip). A bound of +-FLT_MAX
 * stands for none, so +-inf passes through as in numpy (inf + 1 stays inf, not FLT_MAX). */
static float clamp_f32(float v, float lo, float hi)
{
    if (v < lo && lo > -FLT_MAX) {
        v = lo;
    }
    if (v > hi && hi < FLT_MAX) {
        v = hi;
    }
    return v;
}

/* max and min as numpy's maximum and minimum: NaN when either input is NaN. */
static float max_f32(float u, float v)
{
    return (u != u || u > v) ? u : v;
}

static float min_f32(float u, float v)
{
    return (u != u || u < v) ? u : v;
}

/* The float binary loop over the 4-loop geometry, z = EXPR of u (from a) and v (from b). A macro, so
 * that each kernel holds only its own arithmetic: a model that adds links no powf. */
#define TINYC_BINARY_F32(p, a, b, y, EXPR)                                                 \
    do {                                                                                   \
        const int32_t *d_ = (p)->out_dims, n_ = d_[3];                                     \
        const int32_t sa_ = (p)->a_strides[3], sb_ = (p)->b_strides[3];                    \
        const int32_t rows_ = d_[0] * d_[1] * d_[2];                                       \
        int32_t r_, i_, oa_, ob_;                                                          \
        for (r_ = 0; r_ < rows_; ++r_) {                                                   \
            row_start(d_, (p)->a_strides, (p)->b_strides, r_, &oa_, &ob_);                 \
            for (i_ = 0; i_ < n_; ++i_) {                                                  \
                const float u = (a)[oa_ + i_ * sa_], v = (b)[ob_ + i_ * sb_];              \
                *(y)++ = clamp_f32((EXPR), (p)->clamp.min, (p)->clamp.max);                \
            }                                                                              \
        }                                                                                  \
    } while (0)

void tinyc_add_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y)
{
    TINYC_BINARY_F32(p, a, b, y, u + v);
}

void tinyc_sub_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y)
{
    TINYC_BINARY_F32(p, a, b, y, u - v);
}

void tinyc_mul_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y)
{
    TINYC_BINARY_F32(p, a, b, y, u * v);
}

void tinyc_div_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y)
{
    TINYC_BINARY_F32(p, a, b, y, u / v);
}

void tinyc_pow_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y)
{
    TINYC_BINARY_F32(p, a, b, y, powf(u, v));
}

void tinyc_max_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y)
{
    TINYC_BINARY_F32(p, a, b, y, max_f32(u, v));
}

void tinyc_min_f32(const tinyc_binary_f32_params *p, const float *a, const float *b, float *y)
{
    TINYC_BINARY_F32(p, a, b, y, min_f32(u, v));
}

void tinyc_prelu_f32(const tinyc_binary_f32_params *p, const float *x, const float *slope, float *y)
{
    TINYC_BINARY_F32(p, x, slope, y, u >= 0.0f ? u : u * v); /* u = x, v = slope */
}

void tinyc_where_f32(const tinyc_where_f32_params *p, const int8_t *cond, const float *a, const float *b, float *y)
{
    const int32_t *d = p->out_dims, n = d[3];
    const int32_t sc = p->c_strides[3], sa = p->a_strides[3], sb = p->b_strides[3];
    const int32_t rows = d[0] * d[1] * d[2];
    int32_t r, i, oa, ob, oc, unused;
    for (r = 0; r < rows; ++r) {
        row_start(d, p->a_strides, p->b_strides, r, &oa, &ob);
        row_start(d, p->c_strides, p->c_strides, r, &oc, &unused);
        for (i = 0; i < n; ++i) {
            const float u = a[oa + i * sa], v = b[ob + i * sb]; /* both read before y[i] is written */
            *y++ = cond[oc + i * sc] ? u : v;
        }
    }
}

/* floor((x * m + 2^31) / 2^32): SMMULR on a DSP core. With x = 2 * acc this equals the first
 * step of tinyc_requantize, floor((acc * m + 2^30) / 2^31), whenever 2 * acc fits int32. */
static inline int32_t mulhi_round(int32_t x, int32_t m)
{
#if TINYC_HAS_DSP
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(x), "r"(m));
    return r;
#else
    return (int32_t)(((int64_t)x * m + ((int64_t)1 << 31)) >> 32);
#endif
}

/* tinyc_requantize(acc, m, shift) for shift <= 0, from x2 = 2 * acc (|x2| < 2^30), as
 * (h + bias + (h < 0 ? neg : 0)) >> right with right = -shift, bias = 2^(right - 1) and
 * neg = -1 when right >= 1, bias = neg = 0 when right = 0. Why: RoundingDivideByPOT(h, r) adds 1
 * to floor(h / 2^r) when the remainder exceeds 2^(r-1) - 1 (h >= 0) or 2^(r-1) (h < 0), which is
 * floor((h + 2^(r-1) - (h < 0)) / 2^r). |h| <= |acc| < 2^29 and bias <= 2^30: no overflow. */
typedef struct {
    int32_t multiplier, right, bias, neg;
} rescale;

static rescale rescale_of(int32_t multiplier, int32_t shift)
{
    rescale r;
    r.multiplier = multiplier;
    r.right = -shift;
    r.bias = r.right > 0 ? (int32_t)1 << (r.right - 1) : 0;
    r.neg = r.right > 0 ? -1 : 0;
    return r;
}

static inline int32_t rescale_x2(int32_t x2, rescale r)
{
    const int32_t h = mulhi_round(x2, r.multiplier);
    return (h + r.bias + ((h >> 31) & r.neg)) >> r.right;
}

/* Clamp to [lo, hi] within [-128, 127]. */
static inline int8_t clamp_s8(int32_t v, tinyc_clamp c)
{
    return (int8_t)tinyc_clamp_i32(v, c.min, c.max);
}

/* Fast same-shape add/sub over n contiguous elements, bit-exact with the reference below.
 * Input x - zp in [-255, 255] lifted by 2^20 (TFLite's left_shift) is below 2^28 in magnitude, and
 * quantize_multiplier(s_x / (2 max(s_a, s_b))) has shift <= 0 (the ratio is <= 1/2), so the input
 * rescale never shifts left nor saturates: x2 = (x - zp) << 21 is below 2^29. Each rescaled input
 * is at most |x2| / 2 < 2^28, their sum or difference below 2^29, so 2 * sum fits. The caller
 * checks output_shift in [-23, -1]: no left shift, and output_zp * 2^right (|.| <= 2^30) joins the
 * rounding bias (floor((t + zp 2^r) / 2^r) = floor(t / 2^r) + zp) without overflow (|h| < 2^29). */
TINYC_ELEM_NOINLINE static void add_sub_flat_s8(const tinyc_add_s8_params *p, const int8_t *a, const int8_t *b,
                                                int8_t *y, int32_t n, int32_t sign)
{
    rescale ra = rescale_of(p->a_multiplier, p->a_shift), rb = rescale_of(p->b_multiplier, p->b_shift);
    const int32_t mo = p->output_multiplier, ro = -p->output_shift;
    const int32_t bo = ((int32_t)1 << (ro - 1)) + p->output_zp * ((int32_t)1 << ro);
    int32_t za = p->a_zp * (1 << 21), zb = p->b_zp * (1 << 21);
    const tinyc_clamp c = p->clamp;
    const int full = c.min == -128 && c.max == 127; /* no fused activation: SSAT alone clamps */
    int32_t i = 0;
    (void)full;
    if (sign > 0 && ra.multiplier == (1 << 30) && ra.right == 0 && rb.right > 0) {
        /* a + b == b + a exactly (each input is rescaled on its own): put the exact one second. */
        const int8_t *t = a;
        const rescale rt = ra;
        const int32_t zt = za;
        a = b, b = t, ra = rb, rb = rt, za = zb, zb = zt;
    }
    if (sign > 0 && rb.multiplier == (1 << 30) && rb.right == 0 && ra.right > 0) {
        /* TFLite's usual case: b has the larger scale, so its rescale is exactly (x - zp) << 19.
         * Four elements per pass, one step at a time, keep the constants of a step in registers. */
        const int32_t zb19 = zb / 4;
        for (; i + 4 <= n; i += 4) {
            int32_t t[4], k;
            TINYC_ELEM_UNROLL4 for (k = 0; k < 4; ++k) {
                const int32_t h = mulhi_round(a[i + k] * (1 << 21) - za, ra.multiplier);
                t[k] = (h + ra.bias + (h >> 31)) >> ra.right;
            }
            TINYC_ELEM_UNROLL4 for (k = 0; k < 4; ++k) {
                t[k] = 2 * (t[k] + b[i + k] * (1 << 19) - zb19);
            }
            TINYC_ELEM_UNROLL4 for (k = 0; k < 4; ++k) {
                const int32_t h = mulhi_round(t[k], mo);
#if TINYC_HAS_DSP
                if (full) {
                    y[i + k] = (int8_t)__ssat((h + bo + (h >> 31)) >> ro, 8);
                    continue;
                }
#endif
                y[i + k] = clamp_s8((h + bo + (h >> 31)) >> ro, c);
            }
        }
    }
    for (; i < n; ++i) {
        const int32_t u = rescale_x2(a[i] * (1 << 21) - za, ra);
        const int32_t v = rescale_x2(b[i] * (1 << 21) - zb, rb);
        const int32_t h = mulhi_round(2 * (u + sign * v), mo);
        y[i] = clamp_s8((h + bo + (h >> 31)) >> ro, c);
    }
}

#if TINYC_HAS_MVE
/* tinyc_requantize on 4 lanes for shift <= 0, the multiplier a scalar and rn the vector of shift
 * (tinyc_vec_requant.h; rn's sign bit is the fixup mask: set exactly when the value shifts right). */
static inline int32x4_t rescale_right_x4(int32x4_t acc, int32_t multiplier, int32x4_t rn)
{
    const int32x4_t hi = vqrdmulhq_n_s32(acc, multiplier);
    return vrshlq_s32(vqaddq_s32(hi, vshrq_n_s32(vandq_s32(hi, rn), 31)), rn);
}

/* The add/sub result of 4 lanes of a and b, as the reference computes it lane by lane. */
typedef struct {
    int32x4_t rn_a, rn_b, rn_o, lo, hi;
    int32_t left, za, zb, zo, ma, mb, mo, sign;
} add_mve;

static inline int32x4_t add_sub_x4(const add_mve *k, int32x4_t a, int32x4_t b)
{
    const int32x4_t u = rescale_right_x4(vshlq_r_s32(vsubq_n_s32(a, k->za), k->left), k->ma, k->rn_a);
    const int32x4_t v = rescale_right_x4(vshlq_r_s32(vsubq_n_s32(b, k->zb), k->left), k->mb, k->rn_b);
    const int32x4_t t = rescale_right_x4(vmlaq_n_s32(u, v, k->sign), k->mo, k->rn_o);  /* u + sign * v */
    return vminq_s32(vmaxq_s32(vaddq_n_s32(t, k->zo), k->lo), k->hi);
}

/* One contiguous row of add (sign 1) or sub (-1), 4 lanes a step, the last 1..3 predicated: the same bits
 * as the reference when the input and output shifts are <= 0 (add_sub_s8 checks). The parameters are copied
 * to locals: a store to y (int8) could alias *p, and its fields would be reloaded. */
TINYC_ELEM_NOINLINE static void add_sub_mve_s8(const tinyc_add_s8_params *p, const int8_t *a, const int8_t *b,
                                               int8_t *y, int32_t n, int32_t sign)
{
    add_mve k;
    int32_t i;
    k.rn_a = vdupq_n_s32(p->a_shift), k.rn_b = vdupq_n_s32(p->b_shift), k.rn_o = vdupq_n_s32(p->output_shift);
    k.lo = vdupq_n_s32(p->clamp.min), k.hi = vdupq_n_s32(p->clamp.max);
    k.left = p->left_shift, k.za = p->a_zp, k.zb = p->b_zp, k.zo = p->output_zp;
    k.ma = p->a_multiplier, k.mb = p->b_multiplier, k.mo = p->output_multiplier, k.sign = sign;
    for (i = 0; i + 4 <= n; i += 4) {
        vstrbq_s32(y + i, add_sub_x4(&k, vldrbq_s32(a + i), vldrbq_s32(b + i)));
    }
    if (i < n) {
        const mve_pred16_t pred = vctp32q((uint32_t)(n - i));
        vstrbq_p_s32(y + i, add_sub_x4(&k, vldrbq_z_s32(a + i, pred), vldrbq_z_s32(b + i, pred)), pred);
    }
}
#endif

/* TFLite's reference int8 add: (x - zp) * 2^left_shift stays below 2^28 for int8 input, so
 * neither the rescaled inputs nor their sum can overflow int32. Rows whose inputs are both
 * contiguous take add_sub_flat_s8 when the output shift allows (see there). */
static void add_sub_s8(const tinyc_add_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y,
                       int32_t sign)
{
    const int32_t *d = p->out_dims, sa = p->a_strides[3], sb = p->b_strides[3];
    const int32_t lift = (int32_t)1 << p->left_shift;
    int32_t n;
    const int32_t rows = binary_rows(d, p->a_strides, p->b_strides, &n);
    const int flat = sa == 1 && sb == 1 && p->left_shift == 20 && p->a_shift <= 0 && p->b_shift <= 0 &&
                     p->output_shift <= -1 &&
                     p->output_shift >= -23;
    int32_t r, i, oa, ob;
    for (r = 0; r < rows; ++r, y += n) {
        row_start(d, p->a_strides, p->b_strides, r, &oa, &ob);
#if TINYC_HAS_MVE
        if (sa == 1 && sb == 1 && p->left_shift <= 20 && p->a_shift <= 0 && p->b_shift <= 0 && p->output_shift <= 0) {
            add_sub_mve_s8(p, a + oa, b + ob, y, n, sign);
            continue;
        }
#endif
        if (flat) {
            add_sub_flat_s8(p, a + oa, b + ob, y, n, sign);
            continue;
        }
        for (i = 0; i < n; ++i) {
            const int32_t u = tinyc_requantize((a[oa + i * sa] - p->a_zp) * lift, p->a_multiplier, p->a_shift);
            const int32_t v = tinyc_requantize((b[ob + i * sb] - p->b_zp) * lift, p->b_multiplier, p->b_shift);
            y[i] = tinyc_requantize_s8(u + sign * v, p->output_multiplier, p->output_shift,
                                       p->output_zp, p->clamp);
        }
    }
}

void tinyc_add_s8(const tinyc_add_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y)
{
    add_sub_s8(p, a, b, y, 1);
}

void tinyc_sub_s8(const tinyc_add_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y)
{
    add_sub_s8(p, a, b, y, -1);
}

/* |acc| <= 255^2 < 2^16: for output_shift in [-31, 13], 2 * (acc << max(shift, 0)) fits int32 and
 * the left shift cannot saturate, so rescale_x2 (right = max(-shift, 0)) gives tinyc_requantize. */
#if TINYC_HAS_MVE
/* One contiguous row of mul, 4 lanes a step, the last 1..3 predicated: tinyc_requantize_x4 of the exact
 * products (parameters in locals, as add_sub_mve_s8). */
static inline int32x4_t mul_x4(int32x4_t a, int32x4_t b, int32_t za, int32_t zb, int32_t zo, int32x4_t mult,
                               int32x4_t shift, int32x4_t lo, int32x4_t hi)
{
    const int32x4_t acc = vmulq_s32(vsubq_n_s32(a, za), vsubq_n_s32(b, zb));
    return vminq_s32(vmaxq_s32(vaddq_n_s32(tinyc_requantize_x4(acc, mult, shift), zo), lo), hi);
}

TINYC_ELEM_NOINLINE static void mul_mve_s8(const tinyc_mul_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y,
                                           int32_t n)
{
    const int32x4_t mult = vdupq_n_s32(p->output_multiplier), shift = vdupq_n_s32(p->output_shift);
    const int32x4_t lo = vdupq_n_s32(p->clamp.min), hi = vdupq_n_s32(p->clamp.max);
    const int32_t za = p->a_zp, zb = p->b_zp, zo = p->output_zp;
    int32_t i;
    for (i = 0; i + 4 <= n; i += 4) {
        vstrbq_s32(y + i, mul_x4(vldrbq_s32(a + i), vldrbq_s32(b + i), za, zb, zo, mult, shift, lo, hi));
    }
    if (i < n) {
        const mve_pred16_t pred = vctp32q((uint32_t)(n - i));
        vstrbq_p_s32(y + i, mul_x4(vldrbq_z_s32(a + i, pred), vldrbq_z_s32(b + i, pred), za, zb, zo, mult, shift,
                                   lo, hi), pred);
    }
}
#endif

void tinyc_mul_s8(const tinyc_mul_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y)
{
    const int32_t *d = p->out_dims, sa = p->a_strides[3], sb = p->b_strides[3];
    int32_t n;
    const int32_t rows = binary_rows(d, p->a_strides, p->b_strides, &n);
    const int fast = p->output_shift <= 13;
    const int32_t left = p->output_shift > 0 ? p->output_shift + 1 : 1;
    const rescale ro = rescale_of(p->output_multiplier, p->output_shift > 0 ? 0 : p->output_shift);
    int32_t r, i, oa, ob;
    for (r = 0; r < rows; ++r) {
        row_start(d, p->a_strides, p->b_strides, r, &oa, &ob);
#if TINYC_HAS_MVE
        if (sa == 1 && sb == 1) {
            mul_mve_s8(p, a + oa, b + ob, y, n);
            y += n;
            continue;
        }
#endif
        for (i = 0; i < n; ++i) {
            const int32_t acc = (a[oa + i * sa] - p->a_zp) * (b[ob + i * sb] - p->b_zp); /* |acc| <= 255^2 */
            *y++ = fast ? clamp_s8(rescale_x2(acc * (1 << left), ro) + p->output_zp, p->clamp)
                        : tinyc_requantize_s8(acc, p->output_multiplier, p->output_shift, p->output_zp,
                                              p->clamp);
        }
    }
}

/* Round half away from zero of num / den, den > 0, |num| < 2^28. */
static int32_t div_round(int32_t num, int32_t den)
{
    const int32_t q = (2 * (num < 0 ? -num : num) + den) / (2 * den);
    return num < 0 ? -q : q;
}

void tinyc_div_s8(const tinyc_mul_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y)
{
    const int32_t *d = p->out_dims, n = d[3], sa = p->a_strides[3], sb = p->b_strides[3];
    const int32_t rows = d[0] * d[1] * d[2];
    int32_t r, i, oa, ob;
    for (r = 0; r < rows; ++r) {
        row_start(d, p->a_strides, p->b_strides, r, &oa, &ob);
        for (i = 0; i < n; ++i) {
            int32_t num = (a[oa + i * sa] - p->a_zp) * (1 << 20), den = b[ob + i * sb] - p->b_zp;
            if (den < 0) {
                num = -num, den = -den;
            }
            if (den == 0) {
                *y++ = (int8_t)tinyc_clamp_i32(num > 0 ? 127 : (num < 0 ? -128 : p->output_zp),
                                               p->clamp.min, p->clamp.max);
                continue;
            }
            *y++ = tinyc_requantize_s8(div_round(num, den), p->output_multiplier, p->output_shift,
                                       p->output_zp, p->clamp);
        }
    }
}

static void select_s8(const tinyc_select_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y, int larger)
{
    const int32_t *d = p->out_dims, n = d[3], sa = p->a_strides[3], sb = p->b_strides[3];
    const int32_t rows = d[0] * d[1] * d[2];
    int32_t r, i, oa, ob;
    for (r = 0; r < rows; ++r) {
        row_start(d, p->a_strides, p->b_strides, r, &oa, &ob);
        for (i = 0; i < n; ++i) {
            const int8_t u = p->a_table[a[oa + i * sa] + 128], v = p->b_table[b[ob + i * sb] + 128];
            *y++ = (u > v) == larger ? u : v;
        }
    }
}

void tinyc_max_s8(const tinyc_select_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y)
{
    select_s8(p, a, b, y, 1);
}

void tinyc_min_s8(const tinyc_select_s8_params *p, const int8_t *a, const int8_t *b, int8_t *y)
{
    select_s8(p, a, b, y, 0);
}

void tinyc_where_s8(const tinyc_where_s8_params *p, const int8_t *cond, const int8_t *a, const int8_t *b, int8_t *y)
{
    const int32_t *d = p->out_dims, n = d[3];
    const int32_t sc = p->c_strides[3], sa = p->a_strides[3], sb = p->b_strides[3];
    const int32_t rows = d[0] * d[1] * d[2];
    int32_t r, i, oa, ob, oc, unused;
    for (r = 0; r < rows; ++r) {
        row_start(d, p->a_strides, p->b_strides, r, &oa, &ob);
        row_start(d, p->c_strides, p->c_strides, r, &oc, &unused);
        for (i = 0; i < n; ++i) {
            const int8_t u = p->a_table[a[oa + i * sa] + 128], v = p->b_table[b[ob + i * sb] + 128];
            *y++ = cond[oc + i * sc] ? u : v;
        }
    }
}

void tinyc_lut_s8(const tinyc_lut_s8_params *p, const int8_t *x, int8_t *y)
{
    int32_t i = 0;
#if TINYC_HAS_MVE
    /* 16 lanes a step: the offsets x + 128 (x ^ 0x80 as bytes) gather from the table (VLDRB gather) */
    for (; i < p->size; i += 16) {
        const mve_pred16_t pred = vctp8q((uint32_t)(p->size - i));
        const uint8x16_t at = veorq_u8(vldrbq_z_u8((const uint8_t *)x + i, pred), vdupq_n_u8(0x80));
        vstrbq_p_s8(y + i, vldrbq_gather_offset_z_s8(p->table, at, pred), pred);
    }
#endif
    for (; i < p->size; ++i) {
        y[i] = p->table[x[i] + 128];
    }
}

static float clamp01(float v)
{
    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

/* log(1 + exp(x)) without overflow: x + log1p(exp(-x)) above 0. */
static float softplus(float x)
{
    return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
}

/* exp(-|x|) <= 1: no overflow for either sign. */
static float sigmoid(float x)
{
    const float e = expf(-fabsf(x));
    return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

/* One switch per call, a plain loop per function. The functions that need more of libm than expf and
 * tanhf are in tinyc_unary_math_f32, so a model with only relu or clip does not link sinf, erff, ... */
void tinyc_unary_f32(const tinyc_unary_f32_params *p, const float *x, float *y)
{
    const int32_t n = p->size;
    int32_t i;
    switch (p->fn) {
    case TINYC_UNARY_RELU:
        for (i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    case TINYC_UNARY_CLIP:
        for (i = 0; i < n; ++i) y[i] = clamp_f32(x[i], p->min, p->max);
        break;
    case TINYC_UNARY_LEAKY_RELU:
        for (i = 0; i < n; ++i) y[i] = x[i] >= 0.0f ? x[i] : p->alpha * x[i];
        break;
    case TINYC_UNARY_SIGMOID:
        for (i = 0; i < n; ++i) y[i] = 1.0f / (1.0f + expf(-x[i]));
        break;
    case TINYC_UNARY_TANH:
        for (i = 0; i < n; ++i) y[i] = tanhf(x[i]);
        break;
    case TINYC_UNARY_HARD_SIGMOID:
        for (i = 0; i < n; ++i) y[i] = clamp01(p->alpha * x[i] + p->beta);
        break;
    case TINYC_UNARY_HARD_SWISH:
        for (i = 0; i < n; ++i) y[i] = x[i] * clamp01(p->alpha * x[i] + p->beta);
        break;
    case TINYC_UNARY_ABS:
        for (i = 0; i < n; ++i) y[i] = fabsf(x[i]);
        break;
    case TINYC_UNARY_NEG:
        for (i = 0; i < n; ++i) y[i] = -x[i];
        break;
    case TINYC_UNARY_SIGN: /* 0 stays 0 and NaN stays NaN, as numpy's sign */
        for (i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? 1.0f : (x[i] < 0.0f ? -1.0f : x[i]);
        break;
    case TINYC_UNARY_RECIPROCAL:
        for (i = 0; i < n; ++i) y[i] = 1.0f / x[i];
        break;
    case TINYC_UNARY_SOFTSIGN:
        for (i = 0; i < n; ++i) y[i] = x[i] / (1.0f + fabsf(x[i]));
        break;
    case TINYC_UNARY_THRESHOLDED_RELU:
        for (i = 0; i < n; ++i) y[i] = x[i] > p->alpha ? x[i] : 0.0f;
        break;
    case TINYC_UNARY_SHRINK:
        for (i = 0; i < n; ++i) {
            const float v = x[i];
            y[i] = v < -p->alpha ? v + p->beta : (v > p->alpha ? v - p->beta : 0.0f);
        }
        break;
    default:
        TINYC_ASSERT(0);
        break;
    }
}

void tinyc_unary_math_f32(const tinyc_unary_f32_params *p, const float *x, float *y)
{
    const int32_t n = p->size;
    int32_t i;
    switch (p->fn) {
    case TINYC_UNARY_CEIL:
        for (i = 0; i < n; ++i) y[i] = ceilf(x[i]);
        break;
    case TINYC_UNARY_FLOOR:
        for (i = 0; i < n; ++i) y[i] = floorf(x[i]);
        break;
    case TINYC_UNARY_ROUND:
        for (i = 0; i < n; ++i) y[i] = rintf(x[i]);
        break;
    case TINYC_UNARY_EXP:
        for (i = 0; i < n; ++i) y[i] = expf(x[i]);
        break;
    case TINYC_UNARY_LOG:
        for (i = 0; i < n; ++i) y[i] = logf(x[i]);
        break;
    case TINYC_UNARY_SQRT:
        for (i = 0; i < n; ++i) y[i] = sqrtf(x[i]);
        break;
    case TINYC_UNARY_SIN:
        for (i = 0; i < n; ++i) y[i] = sinf(x[i]);
        break;
    case TINYC_UNARY_COS:
        for (i = 0; i < n; ++i) y[i] = cosf(x[i]);
        break;
    case TINYC_UNARY_ERF:
        for (i = 0; i < n; ++i) y[i] = erff(x[i]);
        break;
    case TINYC_UNARY_GELU:
        for (i = 0; i < n; ++i) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.707106781f));
        break;
    case TINYC_UNARY_GELU_TANH:
        for (i = 0; i < n; ++i) {
            const float v = x[i];
            y[i] = 0.5f * v * (1.0f + tanhf(0.797884561f * (v + 0.044715f * v * v * v)));
        }
        break;
    case TINYC_UNARY_SOFTPLUS:
        for (i = 0; i < n; ++i) y[i] = softplus(x[i]);
        break;
    case TINYC_UNARY_MISH:
        for (i = 0; i < n; ++i) y[i] = x[i] * tanhf(softplus(x[i]));
        break;
    case TINYC_UNARY_SWISH:
        for (i = 0; i < n; ++i) y[i] = x[i] * sigmoid(p->alpha * x[i]);
        break;
    case TINYC_UNARY_ELU:
        for (i = 0; i < n; ++i) y[i] = x[i] >= 0.0f ? x[i] : p->alpha * expm1f(x[i]);
        break;
    case TINYC_UNARY_SELU:
        for (i = 0; i < n; ++i) y[i] = p->beta * (x[i] > 0.0f ? x[i] : p->alpha * expm1f(x[i]));
        break;
    case TINYC_UNARY_CELU:
        for (i = 0; i < n; ++i) {
            const float neg = p->alpha * expm1f(x[i] / p->alpha);
            y[i] = (x[i] > 0.0f ? x[i] : 0.0f) + (neg < 0.0f ? neg : 0.0f);
        }
        break;
    default:
        TINYC_ASSERT(0);
        break;
    }
}

void tinyc_prelu_s8(const tinyc_prelu_s8_params *p, const int8_t *x, int8_t *y)
{
    const tinyc_clamp full = {-128, 127};
    int32_t o, c, i;
    for (o = 0; o < p->outer; ++o) {
        for (c = 0; c < p->channels; ++c) {
            const int32_t nm = p->negative_multiplier[c], ns = p->negative_shift[c];
            for (i = 0; i < p->inner; ++i, ++x, ++y) {
                const int32_t v = *x - p->input_zp;
                *y = v >= 0 ? tinyc_requantize_s8(v, p->positive_multiplier, p->positive_shift, p->output_zp, full)
                            : tinyc_requantize_s8(v, nm, ns, p->output_zp, full);
            }
        }
    }
}
