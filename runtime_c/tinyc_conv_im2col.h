/* tinyc_conv_im2col.h: the int8 column fill of tinyc_conv2d_s8 (tinyc_conv.c only): two output
 * pixels' windows into int16 scratch in the layout tinyc_conv.c describes (k paired with k + half,
 * the two pixels' pairs alternating, a stride of 4 int16 between consecutive k), taps outside x
 * holding input_zp. Activations NCHW; one group's planes at a time. */
#ifndef TINYC_CONV_IM2COL_H
#define TINYC_CONV_IM2COL_H

#include "tinyc_conv_common.h"

/* What the column fill needs of one group, computed once per call. */
typedef struct {
    const int8_t *xg;  /* the group's first input plane */
    int32_t in_h, in_w, in_plane, kh, kw, dh, dw, cin_g, k, half;
    int32_t row_step;    /* dh * in_w: from one kernel row to the next */
    int32_t plane_step;  /* in_plane - kh * row_step: from past the last kernel row to the next plane */
    int16_t zp;
} tinyc_conv_cols;

/* Where element k of pixel 0's column goes (pixel 1: + 2). */
static inline int16_t *tinyc_conv_slot_s8(int16_t *col, int32_t half, int32_t k)
{
    return k < half ? col + 4 * k : col + 4 * (k - half) + 1;
}

/* Rows [r0, r1) (row r = ic * KH + ky, KW taps) of windows inside x with dw == 1 into d (the slot of
 * row r0's first tap, stride 4 int16, none crossing into the second half); xw points at the window's
 * x[0][iy0][ix0]. two: pixel 1's window, sw to the right, goes to d + 2. */
static void tinyc_conv_rows_s8(const tinyc_conv_cols *c, const int8_t *xw, int32_t sw, int32_t r0, int32_t r1,
                               int16_t *d, int two)
{
    const int32_t kh = c->kh, kw = c->kw, row_step = c->row_step, plane_step = c->plane_step;
    int32_t ky = r0 % kh, r, kx;
    const int8_t *xr = xw + (r0 / kh) * c->in_plane + ky * row_step;
    if (two && kw == 3 && sw == 1) {  /* the 4 bytes of a row hold both windows' taps */
        for (r = r0; r < r1; r++) {
            const int16_t b1 = xr[1], b2 = xr[2];
            d[0] = xr[0];
            d[4] = b1;
            d[8] = b2;
            d[2] = b1;
            d[6] = b2;
            d[10] = xr[3];
            d += 12;
            xr += row_step;
            if (++ky == kh) {
                ky = 0;
                xr += plane_step;
            }
        }
        return;
    }
    if (two && kw == 3) {  /* stride 2 and up: no shared taps */
        for (r = r0; r < r1; r++) {
            d[0] = xr[0];
            d[4] = xr[1];
            d[8] = xr[2];
            d[2] = xr[sw];
            d[6] = xr[sw + 1];
            d[10] = xr[sw + 2];
            d += 12;
            xr += row_step;
            if (++ky == kh) {
                ky = 0;
                xr += plane_step;
            }
        }
        return;
    }
    if (kw == 1 && kh == 1) {  /* 1x1 (strided, padded or grouped): one tap per plane */
        const int32_t in_plane = c->in_plane;
        for (r = r0; r < r1; r++) {
            d[0] = xr[0];
            if (two) {
                d[2] = xr[sw];
            }
            d += 4;
            xr += in_plane;
        }
        return;
    }
    if (!two && kw == 3) {
        for (r = r0; r < r1; r++) {
            d[0] = xr[0];
            d[4] = xr[1];
            d[8] = xr[2];
            d += 12;
            xr += row_step;
            if (++ky == kh) {
                ky = 0;
                xr += plane_step;
            }
        }
        return;
    }
    for (r = r0; r < r1; r++) {
        for (kx = 0; kx < kw; kx++) {
            d[4 * kx] = xr[kx];
        }
        if (two) {
            for (kx = 0; kx < kw; kx++) {
                d[4 * kx + 2] = xr[kx + sw];
            }
        }
        d += 4 * kw;
        xr += row_step;
        if (++ky == kh) {
            ky = 0;
            xr += plane_step;
        }
    }
}

/* Columns (pixel 0, and pixel 1 when two) of windows inside x with dw == 1; pixel 1's window is sw to
 * the right. xw points at x[0][iy0][ix0]. The rows before the half and after it run straight; a row
 * that crosses it goes tap by tap. */
static void tinyc_conv_col_inside_s8(const tinyc_conv_cols *c, const int8_t *xw, int32_t sw, int16_t *col, int two)
{
    const int32_t kw = c->kw, half = c->half, rows = c->cin_g * c->kh, split = half / kw;
    int32_t kx;
    if (split >= rows) {
        tinyc_conv_rows_s8(c, xw, sw, 0, rows, col, two);
        return;
    }
    tinyc_conv_rows_s8(c, xw, sw, 0, split, col, two);
    if (half % kw == 0) {
        tinyc_conv_rows_s8(c, xw, sw, split, rows, col + 1, two);
        return;
    }
    {
        const int8_t *xr = xw + (split / c->kh) * c->in_plane + (split % c->kh) * c->row_step;
        for (kx = 0; kx < kw; kx++) {
            int16_t *d = tinyc_conv_slot_s8(col, half, split * kw + kx);
            d[0] = xr[kx];
            if (two) {
                d[2] = xr[kx + sw];
            }
        }
    }
    tinyc_conv_rows_s8(c, xw, sw, split + 1, rows, tinyc_conv_slot_s8(col, half, (split + 1) * kw), two);
}

/* One window's tap ranges, for the edge columns. */
typedef struct {
    int32_t iy0, ix0, ky_lo, ky_hi, kx_lo, kx_hi;
} tinyc_conv_window;

/* Row r (= ic * KH + ky) of window wd into d[4 kx] (kx < KW), or tap by tap into its slots when the row
 * crosses into the second half (k0 = r * KW). */
static inline void tinyc_conv_edge_row_s8(const tinyc_conv_cols *c, const tinyc_conv_window *wd, int32_t ic,
                                          int32_t ky, int16_t *d, int16_t *col, int32_t k0)
{
    const int32_t kw = c->kw, dw = c->dw, half = c->half;
    const int16_t zp = c->zp;
    const int inside = ky >= wd->ky_lo && ky < wd->ky_hi;
    const int8_t *xc = c->xg + ic * c->in_plane;
    const int32_t row = (wd->iy0 + ky * c->dh) * c->in_w + wd->ix0;  /* x index of tap kx = 0 */
    int32_t kx;
    if (k0 < half && k0 + kw > half) {
        for (kx = 0; kx < kw; kx++) {
            *tinyc_conv_slot_s8(col, half, k0 + kx) = inside && kx >= wd->kx_lo && kx < wd->kx_hi
                ? xc[row + kx * dw] : zp;
        }
    } else if (!inside) {
        for (kx = 0; kx < kw; kx++) {
            d[4 * kx] = zp;
        }
    } else if (kw == 3 && dw == 1) {
        d[0] = wd->kx_lo <= 0 ? xc[row] : zp;
        d[4] = wd->kx_lo <= 1 && wd->kx_hi > 1 ? xc[row + 1] : zp;
        d[8] = wd->kx_hi > 2 ? xc[row + 2] : zp;
    } else {
        for (kx = 0; kx < kw; kx++) {
            d[4 * kx] = kx >= wd->kx_lo && kx < wd->kx_hi ? xc[row + kx * dw] : zp;
        }
    }
}

/* Column of pixel j of any window at (iy0, ix0) (top-left tap, may be outside x), row by row: taps
 * outside x hold input_zp, so the weight-sum correction stays exact. */
static void tinyc_conv_col_edge_s8(const tinyc_conv_cols *c, int32_t iy0, int32_t ix0, int16_t *col)
{
    const int32_t kh = c->kh, kw = c->kw, half = c->half;
    tinyc_conv_window wd;
    int32_t ic, ky, k = 0;
    int16_t *d = col;
    wd.iy0 = iy0;
    wd.ix0 = ix0;
    tinyc_conv_taps(iy0, c->in_h, kh, c->dh, &wd.ky_lo, &wd.ky_hi);
    tinyc_conv_taps(ix0, c->in_w, kw, c->dw, &wd.kx_lo, &wd.kx_hi);
    for (ic = 0; ic < c->cin_g; ic++) {
        for (ky = 0; ky < kh; ky++) {
            tinyc_conv_edge_row_s8(c, &wd, ic, ky, d, col, k);
            k += kw;
            d = k == half ? col + 1 : d + 4 * kw;  /* a crossing row leaves d stale: re-aim it */
            if (k > half && k - kw < half) {
                d = tinyc_conv_slot_s8(col, half, k);
            }
        }
    }
}

#endif /* TINYC_CONV_IM2COL_H */
