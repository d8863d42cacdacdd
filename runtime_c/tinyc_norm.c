/* tinyc_norm.c: see tinyc_norm.h. Portable C99. */
#include <math.h>

#include "tinyc_inv_sqrt.h"
#include "tinyc_norm.h"

/* (m, inv) of the group starting at x. */
static void group_stats(const tinyc_normalize_f32_params *p, const float *x, float *m_out, float *inv_out)
{
    int32_t idx[TINYC_LOOPS_MAX_RANK] = {0};
    int32_t off = 0, unused = 0, r;
    float m = 0.0f, s = 0.0f, inv;
    if (p->kind == TINYC_NORM_MOMENTS) {
        for (r = 0; r < p->count; ++r) {
            m += x[off];
            tinyc_loops_step(&p->reduced, idx, &off, &unused);
        }
        m /= (float)p->count;
    }
    for (r = 0; r < p->count; ++r) { /* a second pass: the variance of x - m, not E[x^2] - m^2 */
        const float d = x[off] - m;
        s += p->kind == TINYC_NORM_L1 ? fabsf(d) : d * d;
        tinyc_loops_step(&p->reduced, idx, &off, &unused);
    }
    switch (p->kind) {
    case TINYC_NORM_MOMENTS:
        inv = 1.0f / (sqrtf(s / (float)p->count + p->epsilon) + p->epsilon_after);
        break;
    case TINYC_NORM_RMS:
        inv = 1.0f / sqrtf(s / (float)p->count + p->epsilon);
        break;
    case TINYC_NORM_L1:
        inv = s > 0.0f ? 1.0f / s : 0.0f;
        break;
    default:
        inv = s > 0.0f ? 1.0f / sqrtf(s) : 0.0f;
        break;
    }
    *m_out = m;
    *inv_out = inv;
}

void tinyc_normalize_f32(const tinyc_normalize_f32_params *p, const float *x, const float *scale,
                         const float *bias, float *y, float *mean, float *inv_std)
{
    int32_t kept_idx[TINYC_LOOPS_MAX_RANK] = {0};
    int32_t x_off = 0, w_off = 0, groups = 1, o, r, k;
    for (k = 0; k < p->kept.rank; ++k) {
        groups *= p->kept.dims[k];
    }
    for (o = 0; o < groups; ++o) {
        int32_t idx[TINYC_LOOPS_MAX_RANK] = {0};
        int32_t off = 0, w = 0;
        float m, inv;
        group_stats(p, x + x_off, &m, &inv);
        for (r = 0; r < p->count; ++r) {
            float v = (x[x_off + off] - m) * inv;
            if (scale) {
                v *= scale[w_off + w];
            }
            if (bias) {
                v += bias[w_off + w];
            }
            y[x_off + off] = v;
            tinyc_loops_step(&p->reduced, idx, &off, &w);
        }
        if (mean) {
            mean[o] = m;
        }
        if (inv_std) {
            inv_std[o] = inv;
        }
        tinyc_loops_step(&p->kept, kept_idx, &x_off, &w_off);
    }
}

void tinyc_normalize_s8(const tinyc_normalize_s8_params *p, const int8_t *x, const int32_t *scale,
                        const int32_t *bias, int8_t *y)
{
    int32_t kept_idx[TINYC_LOOPS_MAX_RANK] = {0};
    int32_t x_off = 0, w_off = 0, groups = 1, o, r, k;
    const int64_t n = p->count;
    for (k = 0; k < p->kept.rank; ++k) {
        groups *= p->kept.dims[k];
    }
    for (o = 0; o < groups; ++o) {
        int32_t idx[TINYC_LOOPS_MAX_RANK] = {0};
        int32_t off = 0, w = 0, s1 = 0, shift = 0;
        int64_t s2 = 0, var, root = 0, unused_m;
        for (r = 0; r < p->count; ++r) {
            const int32_t d = x[x_off + off] - p->input_zp;
            s1 += d;
            s2 += d * d;
            tinyc_loops_step(&p->reduced, idx, &off, &w);
        }
        var = p->kind == TINYC_NORM_MOMENTS ? n * s2 - (int64_t)s1 * s1 : (p->kind == TINYC_NORM_RMS ? n * s2 : s2);
        if (var > 0) {
            const int64_t big_d = (var << (2 * p->var_fraction_bits)) + ((int64_t)p->eps_mantissa << p->eps_shift);
            tinyc_inv_sqrt(big_d, &root, &shift, &unused_m);
            shift += 44 - p->var_fraction_bits - TINYC_NORM_Z_FRACTION_BITS;
        }
        for (r = 0; r < p->count; ++r) {
            const int64_t d = x[x_off + off] - p->input_zp;
            const int64_t u = p->kind == TINYC_NORM_MOMENTS ? n * d - s1 : (p->kind == TINYC_NORM_RMS ? n * d : d);
            const int64_t z = var > 0 ? tinyc_rounding_shift_i64(u * root, shift) : 0;
            const int64_t v = tinyc_rounding_shift_i64(z * scale[w_off + w] + bias[w_off + w], p->out_shift)
                              + p->output_zp;
            y[x_off + off] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
            tinyc_loops_step(&p->reduced, idx, &off, &w);
        }
        tinyc_loops_step(&p->kept, kept_idx, &x_off, &w_off);
    }
}

void tinyc_lrn_f32(const tinyc_lrn_f32_params *p, const float *x, float *y)
{
    const int32_t step = p->inner;
    int32_t b, c, i, j;
    for (b = 0; b < p->n; ++b) {
        const float *xb = x + b * p->c * step;
        float *yb = y + b * p->c * step;
        for (c = 0; c < p->c; ++c) {
            const int32_t lo = c - p->before < 0 ? 0 : c - p->before;
            const int32_t hi = c + p->after > p->c - 1 ? p->c - 1 : c + p->after;
            for (i = 0; i < step; ++i) {
                float sum = 0.0f;
                for (j = lo; j <= hi; ++j) {
                    const float v = xb[j * step + i];
                    sum += v * v;
                }
                yb[c * step + i] = xb[c * step + i] / powf(p->bias + p->alpha_over_size * sum, p->beta);
            }
        }
    }
}

/* (1 + k total)^-beta in Q22 by linear interpolation in the table (see tinyc_norm.h). */
static int32_t lrn_gain(const int32_t *table, int32_t total)
{
    const int32_t half_octave = 1 << (TINYC_LRN_TABLE_BITS - 1);
    int32_t bits = 0, e, index;
    int64_t step, fraction, mask;
    while (bits < 31 && (total >> bits) != 0) {
        ++bits;
    }
    e = bits > TINYC_LRN_TABLE_BITS ? bits - TINYC_LRN_TABLE_BITS : 0;
    if (e == 0) {
        return table[total];
    }
    index = (1 << TINYC_LRN_TABLE_BITS) + (e - 1) * half_octave + (total >> e) - half_octave;
    fraction = total & ((1 << e) - 1);
    step = (int64_t)table[index + 1] - table[index];
    mask = ((int64_t)1 << e) - 1;
    step *= fraction;
    return table[index] + (int32_t)((step >> e) + ((step & mask) > (mask >> 1) + (step < 0)));
}

void tinyc_lrn_s8(const tinyc_lrn_s8_params *p, const int8_t *x, int8_t *y)
{
    const int32_t step = p->inner;
    int32_t b, c, i, j;
    for (b = 0; b < p->n; ++b) {
        const int8_t *xb = x + b * p->c * step;
        int8_t *yb = y + b * p->c * step;
        for (c = 0; c < p->c; ++c) {
            const int32_t lo = c - p->before < 0 ? 0 : c - p->before;
            const int32_t hi = c + p->after > p->c - 1 ? p->c - 1 : c + p->after;
            for (i = 0; i < step; ++i) {
                int32_t total = 0, v;
                for (j = lo; j <= hi; ++j) {
                    const int32_t d = xb[j * step + i] - p->input_zp;
                    total += d * d;
                }
                v = (xb[c * step + i] - p->input_zp) * lrn_gain(p->table, total);
                v = tinyc_requantize(v, p->multiplier, p->shift) + p->output_zp;
                yb[c * step + i] = (int8_t)tinyc_clamp_i32(v, -128, 127);
            }
        }
    }
}
