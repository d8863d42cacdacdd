/* tinyc_quantize.c: see tinyc_quantize.h. Portable C99, no libm. */
#include "tinyc_quantize.h"

/* x / scale beyond +-512 saturates whatever the zero point, so clamping there first keeps the
 * int conversion defined and changes no result. */
#define TINYC_QUANTIZE_LIMIT 512.0f

void tinyc_quantize_f32_s8(const tinyc_quantize_params *p, const float *x, int8_t *y)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        float v = x[i] / p->scale;
        int32_t r;
        float frac;
        if (v != v) {
            v = 0.0f;
        } else if (v < -TINYC_QUANTIZE_LIMIT) {
            v = -TINYC_QUANTIZE_LIMIT;
        } else if (v > TINYC_QUANTIZE_LIMIT) {
            v = TINYC_QUANTIZE_LIMIT;
        }
        r = (int32_t)v; /* toward zero; v - r is exact below 2^23 */
        frac = v - (float)r;
        if (frac >= 0.5f) {
            r += 1;
        } else if (frac <= -0.5f) {
            r -= 1;
        }
        y[i] = (int8_t)tinyc_clamp_i32(r + p->zero_point, -128, 127);
    }
}

void tinyc_dequantize_s8_f32(const tinyc_quantize_params *p, const int8_t *x, float *y)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        y[i] = (float)((int32_t)x[i] - p->zero_point) * p->scale;
    }
}
