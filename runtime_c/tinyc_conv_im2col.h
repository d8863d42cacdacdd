/* tinyc_conv_im2col.h: the int8 column fill of tinyc_conv2d_s8 (tinyc_conv.c only): two output
 * pixels' windows into int16 scratch in the layout tinyc_conv.c describes (k paired with k + half,
 * the pixels' pairs alternating, a stride of TINYC_COL_S int16 between consecutive k: four pixel
 * slots, filled two at a time), taps outside x holding input_zp. Activations NCHW; one group's planes
 * at a time. */
#ifndef TINYC_CONV_IM2COL_H
#define TINYC_CONV_IM2COL_H

#include "tinyc_conv_common.h"

#ifndef TINYC_COL_S  /* int16 from k to k + 1: tinyc_conv.c's 4 pixel slots of one (k, k + half) pair each */
#define TINYC_COL_S 8
#endif

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
    return k < half ? col + TINYC_COL_S * k : col + TINYC_COL_S * (k - half) + 1;
}

/* Rows [r0, r1) (row r = ic * KH + ky, KW taps) of windows inside x with dw == 1 into d (the slot of
 * row r0's first tap, stride TINYC_COL_S int16, none crossing into the second half); xw points at the window's
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
            d[TINYC_COL_S] = b1;
            d[2 * TINYC_COL_S] = b2;
            d[2] = b1;
            d[TINYC_COL_S + 2] = b2;
            d[2 * TINYC_COL_S + 2] = xr[3];
            d += 3 * TINYC_COL_S;
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
            d[TINYC_COL_S] = xr[1];
            d[2 * TINYC_COL_S] = xr[2];
            d[2] = xr[sw];
            d[TINYC_COL_S + 2] = xr[sw + 1];
            d[2 * TINYC_COL_S + 2] = xr[sw + 2];
            d += 3 * TINYC_COL_S;
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
            d += TINYC_COL_S;
            xr += in_plane;
        }
        return;
    }
    if (!two && kw == 3) {
        for (r = r0; r < r1; r++) {
            d[0] = xr[0];
            d[TINYC_COL_S] = xr[1];
            d[2 * TINYC_COL_S] = xr[2];
            d += 3 * TINYC_COL_S;
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
            d[TINYC_COL_S * kx] = xr[kx];
        }
        if (two) {
            for (kx = 0; kx < kw; kx++) {
                d[TINYC_COL_S * kx + 2] = xr[kx + sw];
            }
        }
        d += TINYC_COL_S * kw;
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

/* Rows [r0, r1) (row r = ic * KH + ky) of window wd into d (the slot of row r0's first tap, stride
 * TINYC_COL_S int16, none crossing into the second half): taps outside x hold input_zp. Everything
 * the loop reads is a local: the int16 stores would otherwise reload it. */
static void tinyc_conv_edge_rows_s8(const tinyc_conv_cols *c, const tinyc_conv_window *wd, int32_t r0, int32_t r1,
                                    int16_t *d)
{
    const int32_t kh = c->kh, kw = c->kw, dw = c->dw, kx_lo = wd->kx_lo, kx_hi = wd->kx_hi;
    const int32_t ky_lo = wd->ky_lo, ky_hi = wd->ky_hi, row_step = c->row_step, in_plane = c->in_plane;
    const int32_t row0 = wd->iy0 * c->in_w + wd->ix0;  /* x index of tap (ky, kx) = (0, 0) */
    const int16_t zp = c->zp;
    const int m0 = kx_lo <= 0 && kx_hi > 0, m1 = kx_lo <= 1 && kx_hi > 1, m2 = kx_lo <= 2 && kx_hi > 2;
    int32_t ky = r0 % kh, r, kx, row = row0 + ky * row_step;
    const int8_t *xc = c->xg + (r0 / kh) * in_plane;
    for (r = r0; r < r1; r++) {
        if (ky >= ky_lo && ky < ky_hi) {
            if (kw == 3 && dw == 1) {
                d[0] = m0 ? xc[row] : zp;
                d[TINYC_COL_S] = m1 ? xc[row + 1] : zp;
                d[2 * TINYC_COL_S] = m2 ? xc[row + 2] : zp;
            } else {
                for (kx = 0; kx < kw; kx++) {
                    d[TINYC_COL_S * kx] = kx >= kx_lo && kx < kx_hi ? xc[row + kx * dw] : zp;
                }
            }
        } else {
            for (kx = 0; kx < kw; kx++) {
                d[TINYC_COL_S * kx] = zp;
            }
        }
        d += TINYC_COL_S * kw;
        row += row_step;
        if (++ky == kh) {
            ky = 0;
            row = row0;
            xc += in_plane;
        }
    }
}

/* Column of pixel j of any window at (iy0, ix0) (top-left tap, may be outside x): taps outside x hold
 * input_zp, so the weight-sum correction stays exact. Split as tinyc_conv_col_inside_s8. */
static void tinyc_conv_col_edge_s8(const tinyc_conv_cols *c, int32_t iy0, int32_t ix0, int16_t *col)
{
    const int32_t kh = c->kh, kw = c->kw, half = c->half, rows = c->cin_g * kh, split = half / kw;
    tinyc_conv_window wd;
    int32_t kx;
    wd.iy0 = iy0;
    wd.ix0 = ix0;
    tinyc_conv_taps(iy0, c->in_h, kh, c->dh, &wd.ky_lo, &wd.ky_hi);
    tinyc_conv_taps(ix0, c->in_w, kw, c->dw, &wd.kx_lo, &wd.kx_hi);
    if (split >= rows) {
        tinyc_conv_edge_rows_s8(c, &wd, 0, rows, col);
        return;
    }
    tinyc_conv_edge_rows_s8(c, &wd, 0, split, col);
    if (half % kw == 0) {
        tinyc_conv_edge_rows_s8(c, &wd, split, rows, col + 1);
        return;
    }
    {  /* the row crossing into the second half, tap by tap */
        const int32_t ky = split % kh, row = (iy0 + ky * c->dh) * c->in_w + ix0;
        const int8_t *xc = c->xg + (split / kh) * c->in_plane;
        const int inside = ky >= wd.ky_lo && ky < wd.ky_hi;
        for (kx = 0; kx < kw; kx++) {
            *tinyc_conv_slot_s8(col, half, split * kw + kx) = inside && kx >= wd.kx_lo && kx < wd.kx_hi
                ? xc[row + kx * c->dw] : c->zp;
        }
    }
    tinyc_conv_edge_rows_s8(c, &wd, split + 1, rows, tinyc_conv_slot_s8(col, half, (split + 1) * kw));
}

#endif /* TINYC_CONV_IM2COL_H */
