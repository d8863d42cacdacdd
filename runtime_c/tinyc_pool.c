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

void tinyc_maxpool_s8(const tinyc_pool_params *p, const int8_t *x, int8_t *y)
{
    const int32_t planes = p->input.n * p->input.c, plane = p->input.h * p->input.w;
    int32_t c, oh, ow, h, w;
    for (c = 0; c < planes; ++c, x += plane) {
        for (oh = 0; oh < p->output_h; ++oh) {
            const span rows = row_span(p, oh);
            for (ow = 0; ow < p->output_w; ++ow) {
                const span cols = col_span(p, ow);
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
#if TINYC_HAS_DSP
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

void tinyc_avgpool_s8(const tinyc_pool_params *p, const int8_t *x, int8_t *y)
{
    const int32_t planes = p->input.n * p->input.c, plane = p->input.h * p->input.w;
    int32_t c, oh, ow, h;
    if (p->output_h == 1 && p->output_w == 1 && p->kernel_h == p->input.h && p->kernel_w == p->input.w &&
        p->pad_top == 0 && p->pad_left == 0 && p->pad_bottom == 0 && p->pad_right == 0) {
        /* Global average (kws_dscnn, ic_resnet8): one contiguous plane per channel. */
        for (c = 0; c < planes; ++c, x += plane) {
            *y++ = divide_s8(sum_s8(x, plane), plane);
        }
        return;
    }
    for (c = 0; c < planes; ++c, x += plane) {
        for (oh = 0; oh < p->output_h; ++oh) {
            const span rows = row_span(p, oh);
            for (ow = 0; ow < p->output_w; ++ow) {
                const span cols = col_span(p, ow);
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
