/* tinyc_conv_chunked.h: the int8 general conv a core with Helium gets (tinyc.ops.conv chooses it when the
 * graph is compiled for such a board, Graph.helium): tinyc_conv2d_s8's params with the weights in another
 * layout. */
#ifndef TINYC_CONV_CHUNKED_H
#define TINYC_CONV_CHUNKED_H

#include "tinyc_conv.h"

/* As tinyc_conv2d_s8 with the weights in the chunked layout Helium reads fastest
 * (tinyc.ops.conv.chunked_weights): k_padded = K rounded up to 16; per group, blocks of 4 channels hold per
 * 16-byte chunk t of k the 4 channels' bytes k in [16 t, 16 t + 16) one after the other (64 bytes), the
 * Co/groups % 4 last channels their k_padded bytes each. Without Helium SMLAD (or plain C) loops over the
 * same layout (slower than tinyc_conv2d_s8's; the same bits). Scratch: TINYC_CONV_CHUNKED_PIXELS *
 * (k_padded + 16) bytes (the pixels' columns). */
#define TINYC_CONV_CHUNK 16
#define TINYC_CONV_CHUNKED_PIXELS 8
/* tinyc_conv2d_chunked_small_s8's columns on the stack: 4 pixels at k_padded = TINYC_CONV_SMALLK, 8 from 64 down */
#define TINYC_CONV_CHUNKED_SMALL_BYTES (4 * (TINYC_CONV_SMALLK + TINYC_CONV_CHUNK))
void tinyc_conv2d_chunked_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias, int8_t *y,
                             void *scratch);
/* k_padded <= TINYC_CONV_SMALLK: as tinyc_conv2d_chunked_s8 with its columns on the stack. Scratch: 0. */
void tinyc_conv2d_chunked_small_s8(const tinyc_conv2d_im2col_s8_params *p, const int8_t *x, const int32_t *bias,
                                   int8_t *y);

#endif /* TINYC_CONV_CHUNKED_H */
