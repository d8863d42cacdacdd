/* tinyc_pool.c: see tinyc_pool.h. Portable C99; the _s8 paths have no float. */
#include <string.h>

#include "tinyc_pool.h"

/* The part of one window inside the input along one axis, [lo, hi), and its share of the
 * divisor: windows are separable, so a row's range is found once for all its columns. */
typedef struct {
    int32_t lo, hi, count;
} span;

static span span_at(int32_t o, int32_t stride, int32_t pad, int32_t kernel, int32_t size, int32_t pad_end,
                    int32_t include_pad)
{
    const int32_t start = o * stride - pad;
    span s;
    s.lo = tinyc_max_i32(start, 0);
    s.hi = tinyc_min_i32(start + kernel, size);
    s.count = include_pad ? tinyc_min_i32(start + kernel, size + pad_end) - start : s.hi - s.lo;
    return s;
}

static span row_span(const tinyc_pool_params *p, int32_t oh)
{
    return span_at(oh, p->stride_h, p->pad_top, p->kernel_h, p->input.h, p->pad_bottom, p->count_include_pad);
}

static span col_span(const tinyc_pool_params *p, int32_t ow)
{
    return span_at(ow, p->stride_w, p->pad_left, p->kernel_w, p->input.w, p->pad_right, p->count_include_pad);
}

#if TINYC_HAS_MVE
/* Output columns [first, end) whose windows lie wholly inside the row: the vector loops take them. */
static void inner_cols(const tinyc_pool_params *p, int32_t *first, int32_t *end)
{
    const int32_t s = p->stride_w, last = p->input.w + p->pad_left - p->kernel_w;
    *first = tinyc_min_i32((p->pad_left + s - 1) / s, p->output_w);
    *end = last < 0 ? *first : tinyc_max_i32(*first, tinyc_min_i32(last / s + 1, p->output_w));
}

/* Lane offsets 0, s, 2 s, ... of a strided window walk (s <= 17 keeps 15 s a byte). */
static uint8x16_t lane_offsets_u8(int32_t s)
{
    return vmulq_n_u8(vidupq_n_u8(0, 1), (uint8_t)s);
}
#endif

/* float32 windows may be dilated: the taps lo, lo + step, ... below hi that fall inside the input, and the
 * divisor (count): those taps, or with include_pad the taps before size + pad_end (a ceil_mode overhang
 * never counts). With dilation 1 the same as span_at. */
typedef struct {
    int32_t lo, hi, step, count;
} fspan;

static fspan fspan_at(int32_t o, int32_t stride, int32_t pad, int32_t kernel, int32_t dilation, int32_t size,
                      int32_t pad_end, int32_t include_pad)
{
    const int32_t start = o * stride - pad;
    const int32_t skip = start < 0 ? (-start + dilation - 1) / dilation : 0; /* taps before the input */
    const int32_t last = start + (kernel - 1) * dilation;
    const int32_t end = tinyc_min_i32(last, size - 1);                     /* last position inside */
    fspan s;
    s.step = dilation;
    s.lo = start + skip * dilation;
    s.hi = end + 1;
    s.count = s.lo <= end ? (end - s.lo) / dilation + 1 : 0;
    if (include_pad) {
        const int32_t limit = tinyc_min_i32(last, size + pad_end - 1);
        s.count = limit >= start ? (limit - start) / dilation + 1 : 0;
    }
    return s;
}

static fspan frow_span(const tinyc_pool_params *p, int32_t oh)
{
    return fspan_at(oh, p->stride_h, p->pad_top, p->kernel_h, p->dilation_h, p->input.h, p->pad_bottom,
                    p->count_include_pad);
}

static fspan fcol_span(const tinyc_pool_params *p, int32_t ow)
{
    return fspan_at(ow, p->stride_w, p->pad_left, p->kernel_w, p->dilation_w, p->input.w, p->pad_right,
                    p->count_include_pad);
}

void tinyc_maxpool_f32(const tinyc_pool_params *p, const float *x, float *y)
{
    const int32_t planes = p->input.n * p->input.c, plane = p->input.h * p->input.w;
    int32_t c, oh, ow, h, w;
    for (c = 0; c < planes; ++c, x += plane) {
        for (oh = 0; oh < p->output_h; ++oh) {
            const fspan rows = frow_span(p, oh);
            for (ow = 0; ow < p->output_w; ++ow) {
                const fspan cols = fcol_span(p, ow);
                float max = x[rows.lo * p->input.w + cols.lo];
                for (h = rows.lo; h < rows.hi; h += rows.step) {
                    for (w = cols.lo; w < cols.hi; w += cols.step) {
                        max = x[h * p->input.w + w] > max ? x[h * p->input.w + w] : max;
                    }
                }
                *y++ = max;
            }
        }
    }
}

#if TINYC_HAS_MVE
/* Max pooling of output columns [ow, end) of one output row (windows inside the row), 16 a step: for every
 * tap a contiguous (stride 1) or gathered (VLDRB gather, other strides) load and VMAX; the last predicated. */
static void maxpool_cols_mve(const tinyc_pool_params *p, const int8_t *x, span rows, int32_t ow, int32_t end,
                             int8_t *y)
{
    const int32_t s = p->stride_w, kw = p->kernel_w, in_w = p->input.w;
    const uint8x16_t at = lane_offsets_u8(s);
    int32_t h, k;
    for (; ow < end; ow += 16) {
        const mve_pred16_t pred = vctp8q((uint32_t)(end - ow));
        const int8_t *row = x + rows.lo * in_w + ow * s - p->pad_left;
        int8x16_t m = vdupq_n_s8(-128);
        for (h = rows.lo; h < rows.hi; ++h, row += in_w) {
            for (k = 0; k < kw; ++k) {
                m = vmaxq_s8(m, s == 1 ? vldrbq_z_s8(row + k, pred) : vldrbq_gather_offset_z_s8(row + k, at, pred));
            }
        }
        vstrbq_p_s8(y + ow, m, pred);
    }
}
#endif

void tinyc_maxpool_s8(const tinyc_pool_params *p, const int8_t *x, int8_t *y)
{
    const int32_t planes = p->input.n * p->input.c, plane = p->input.h * p->input.w;
    int32_t c, oh, ow, h, w;
#if TINYC_HAS_MVE
    int32_t first = 0, end = 0;
    if (p->stride_w <= 17) {
        inner_cols(p, &first, &end);
    }
#endif
    for (c = 0; c < planes; ++c, x += plane) {
        for (oh = 0; oh < p->output_h; ++oh) {
            const span rows = row_span(p, oh);
            for (ow = 0; ow < p->output_w; ++ow) {
                const span cols = col_span(p, ow);
#if TINYC_HAS_MVE
                if (ow == first && end > first) {
                    maxpool_cols_mve(p, x, rows, first, end, y - first);
                    y += end - first;
                    ow = end - 1;
                    continue;
                }
#endif
                const int8_t *row = x + rows.lo * p->input.w;
                int32_t max = -128;
                for (h = rows.lo; h < rows.hi; ++h, row += p->input.w) {
                    for (w = cols.lo; w < cols.hi; ++w) {
                        max = tinyc_max_i32(max, row[w]);
                    }
                }
                *y++ = (int8_t)max;
            }
        }
    }
}

void tinyc_avgpool_f32(const tinyc_pool_params *p, const float *x, float *y)
{
    const int32_t planes = p->input.n * p->input.c, plane = p->input.h * p->input.w;
    int32_t c, oh, ow, h, w;
    for (c = 0; c < planes; ++c, x += plane) {
        for (oh = 0; oh < p->output_h; ++oh) {
            const fspan rows = frow_span(p, oh);
            for (ow = 0; ow < p->output_w; ++ow) {
                const fspan cols = fcol_span(p, ow);
                float sum = 0.0f;
                for (h = rows.lo; h < rows.hi; h += rows.step) {
                    for (w = cols.lo; w < cols.hi; w += cols.step) {
                        sum += x[h * p->input.w + w];
                    }
                }
                *y++ = sum / (float)(rows.count * cols.count);
            }
        }
    }
}

/* Sum of n int8 values. DSP: USADA8 adds the four bytes of x + 128 (each flipped to unsigned by
 * the XOR) per instruction, and 128 per element comes off at the end: exact, |sum| <= 128 n. */
static int32_t sum_s8(const int8_t *x, int32_t n)
{
    int32_t sum = 0, i = 0;
#if TINYC_HAS_MVE
    for (; i + 16 <= n; i += 16) {  /* VADDVA: the 16 lanes summed into sum */
        sum = vaddvaq_s8(sum, vldrbq_s8(x + i));
    }
    if (i < n) {
        const mve_pred16_t pred = vctp8q((uint32_t)(n - i));
        sum = vaddvaq_p_s8(sum, vldrbq_z_s8(x + i, pred), pred);
    }
    return sum;
#elif TINYC_HAS_DSP
    uint32_t biased = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t w;
        memcpy(&w, x + i, 4); /* one unaligned LDR */
        biased = __usada8(w ^ 0x80808080u, 0u, biased);
    }
    sum = (int32_t)biased - 128 * i;
#endif
    for (; i < n; ++i) {
        sum += x[i];
    }
    return sum;
}

/* Round half away from zero; C division truncates toward zero. */
static int8_t divide_s8(int32_t sum, int32_t count)
{
    return (int8_t)(sum >= 0 ? (sum + count / 2) / count : (sum - count / 2) / count);
}

#if TINYC_HAS_MVE
/* Average pooling of output columns [ow, end) of one output row (windows inside the row), 4 a step in int32
 * lanes (the last predicated): the taps summed (contiguous or gathered loads), plus zp for the counted pad
 * rows, then divide_s8's rounding: |sum| + count / 2 divided by count as floor(a * ceil(2^24 / count) / 2^24),
 * exact for a < 2^16 and count < 2^8 (Granlund and Montgomery), which the caller checks. */
static void avgpool_cols_mve(const tinyc_pool_params *p, const int8_t *x, span rows, int32_t ow, int32_t end,
                             int8_t *y)
{
    const int32_t s = p->stride_w, kw = p->kernel_w, in_w = p->input.w;
    const int32_t count = rows.count * kw, pad_sum = p->input_zp * (count - (rows.hi - rows.lo) * kw);
    const uint32_t recip = (((uint32_t)1 << 24) + (uint32_t)count - 1u) / (uint32_t)count;
    const uint32x4_t at = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)s);
    int32_t h, k;
    for (; ow < end; ow += 4) {
        const mve_pred16_t pred = vctp32q((uint32_t)(end - ow));
        const int8_t *row = x + rows.lo * in_w + ow * s - p->pad_left;
        int32x4_t sum = vdupq_n_s32(pad_sum);
        uint32x4_t q;
        for (h = rows.lo; h < rows.hi; ++h, row += in_w) {
            for (k = 0; k < kw; ++k) {
                sum = vaddq_s32(sum, s == 1 ? vldrbq_z_s32(row + k, pred)
                                            : vldrbq_gather_offset_z_s32(row + k, at, pred));
            }
        }
        q = vreinterpretq_u32_s32(vaddq_n_s32(vabsq_s32(sum), count / 2));
        q = vmulhq_u32(vshlq_n_u32(q, 8), vdupq_n_u32(recip));
        vstrbq_p_s32(y + ow, vpselq_s32(vnegq_s32(vreinterpretq_s32_u32(q)), vreinterpretq_s32_u32(q),
                                        vcmpltq_n_s32(sum, 0)), pred);
    }
}
#endif

void tinyc_avgpool_s8(const tinyc_pool_params *p, const int8_t *x, int8_t *y)
{
    const int32_t planes = p->input.n * p->input.c, plane = p->input.h * p->input.w;
    int32_t c, oh, ow, h;
#if TINYC_HAS_MVE
    int32_t first = 0, end = 0;
#endif
    if (p->output_h == 1 && p->output_w == 1 && p->kernel_h == p->input.h && p->kernel_w == p->input.w &&
        p->pad_top == 0 && p->pad_left == 0 && p->pad_bottom == 0 && p->pad_right == 0) {
        /* Global average (kws_dscnn, ic_resnet8): one contiguous plane per channel. */
        for (c = 0; c < planes; ++c, x += plane) {
            *y++ = divide_s8(sum_s8(x, plane), plane);
        }
        return;
    }
#if TINYC_HAS_MVE
    if (p->kernel_h * p->kernel_w < 256) {  /* count < 2^8, |sum| + count / 2 < 2^15 */
        inner_cols(p, &first, &end);
    }
#endif
    for (c = 0; c < planes; ++c, x += plane) {
        for (oh = 0; oh < p->output_h; ++oh) {
            const span rows = row_span(p, oh);
            for (ow = 0; ow < p->output_w; ++ow) {
                const span cols = col_span(p, ow);
#if TINYC_HAS_MVE
                if (ow == first && end > first) {
                    avgpool_cols_mve(p, x, rows, first, end, y - first);
                    y += end - first;
                    ow = end - 1;
                    continue;
                }
#endif
                const int32_t valid = (rows.hi - rows.lo) * (cols.hi - cols.lo), count = rows.count * cols.count;
                int32_t sum = p->input_zp * (count - valid); /* counted pad taps hold real 0 */
                for (h = rows.lo; h < rows.hi; ++h) {
                    sum += sum_s8(x + h * p->input.w + cols.lo, cols.hi - cols.lo);
                }
                *y++ = divide_s8(sum, count);
            }
        }
    }
}
