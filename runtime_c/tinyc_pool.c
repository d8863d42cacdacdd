/* tinyc_pool.c: see tinyc_pool.h. Portable C99; the _s8 paths have no float. */
#include <string.h>

#include "tinyc_pool.h"

/* The part of one window inside the input, [h0, h1) x [w0, w1), and its divisor. */
typedef struct {
    int32_t h0, h1, w0, w1, count;
} window;

static window window_at(const tinyc_pool_params *p, int32_t oh, int32_t ow)
{
    const int32_t hs = oh * p->stride_h - p->pad_top, ws = ow * p->stride_w - p->pad_left;
    window win;
    win.h0 = tinyc_max_i32(hs, 0);
    win.h1 = tinyc_min_i32(hs + p->kernel_h, p->input.h);
    win.w0 = tinyc_max_i32(ws, 0);
    win.w1 = tinyc_min_i32(ws + p->kernel_w, p->input.w);
    if (p->count_include_pad) {
        win.count = (tinyc_min_i32(hs + p->kernel_h, p->input.h + p->pad_bottom) - hs) *
                    (tinyc_min_i32(ws + p->kernel_w, p->input.w + p->pad_right) - ws);
    } else {
        win.count = (win.h1 - win.h0) * (win.w1 - win.w0);
    }
    return win;
}

void tinyc_maxpool_f32(const tinyc_pool_params *p, const float *x, float *y)
{
    const int32_t planes = p->input.n * p->input.c, plane = p->input.h * p->input.w;
    int32_t c, oh, ow, h, w;
    for (c = 0; c < planes; ++c, x += plane) {
        for (oh = 0; oh < p->output_h; ++oh) {
            for (ow = 0; ow < p->output_w; ++ow) {
                const window win = window_at(p, oh, ow);
                float max = x[win.h0 * p->input.w + win.w0];
                for (h = win.h0; h < win.h1; ++h) {
                    for (w = win.w0; w < win.w1; ++w) {
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
            for (ow = 0; ow < p->output_w; ++ow) {
                const window win = window_at(p, oh, ow);
                int32_t max = -128;
                for (h = win.h0; h < win.h1; ++h) {
                    for (w = win.w0; w < win.w1; ++w) {
                        max = tinyc_max_i32(max, x[h * p->input.w + w]);
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
            for (ow = 0; ow < p->output_w; ++ow) {
                const window win = window_at(p, oh, ow);
                float sum = 0.0f;
                for (h = win.h0; h < win.h1; ++h) {
                    for (w = win.w0; w < win.w1; ++w) {
                        sum += x[h * p->input.w + w];
                    }
                }
                *y++ = sum / (float)win.count;
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
            for (ow = 0; ow < p->output_w; ++ow) {
                const window win = window_at(p, oh, ow);
                const int32_t valid = (win.h1 - win.h0) * (win.w1 - win.w0);
                int32_t sum = p->input_zp * (win.count - valid); /* counted pad taps hold real 0 */
                for (h = win.h0; h < win.h1; ++h) {
                    sum += sum_s8(x + h * p->input.w + win.w0, win.w1 - win.w0);
                }
                *y++ = divide_s8(sum, win.count);
            }
        }
    }
}
