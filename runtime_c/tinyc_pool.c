/* tinyc_pool.c: see tinyc_pool.h. Portable C99; the _s8 paths have no float. */
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

void tinyc_avgpool_s8(const tinyc_pool_params *p, const int8_t *x, int8_t *y)
{
    const int32_t planes = p->input.n * p->input.c, plane = p->input.h * p->input.w;
    int32_t c, oh, ow, h, w;
    for (c = 0; c < planes; ++c, x += plane) {
        for (oh = 0; oh < p->output_h; ++oh) {
            for (ow = 0; ow < p->output_w; ++ow) {
                const window win = window_at(p, oh, ow);
                const int32_t valid = (win.h1 - win.h0) * (win.w1 - win.w0);
                int32_t sum = p->input_zp * (win.count - valid); /* counted pad taps hold real 0 */
                for (h = win.h0; h < win.h1; ++h) {
                    for (w = win.w0; w < win.w1; ++w) {
                        sum += x[h * p->input.w + w];
                    }
                }
                /* Round half away from zero; C division truncates toward zero. */
                sum = sum >= 0 ? (sum + win.count / 2) / win.count : (sum - win.count / 2) / win.count;
                *y++ = (int8_t)sum;
            }
        }
    }
}
