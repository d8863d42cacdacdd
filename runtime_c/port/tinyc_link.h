/* tinyc_link.h: the framed protocol of `tinyc verify --port` over the board's console. The host
 * sends one request; the firmware runs one inference on it and answers; the host waits for the answer.
 *   request:  "TCRQ", u32 n, n payload bytes (every input, raw, in order), u32 CRC of the payload
 *   answer:   "TCRS", u32 n, n payload bytes, u32 CRC of the payload, where the payload is
 *             u32 status, u32 model fingerprint, u32 cycles, then every output (raw, in order) if status is 0
 * Integers are little-endian; the CRC is CRC-32 as zlib computes it. Text the firmware prints between
 * answers (its self-test) is skipped by the host, which looks for "TCRS". */
#ifndef TINYC_LINK_H
#define TINYC_LINK_H

#include <stddef.h>
#include <stdint.h>

enum { TINYC_LINK_OK = 0, TINYC_LINK_BAD_LENGTH = 1, TINYC_LINK_BAD_CRC = 2 };

uint32_t tinyc_crc32(uint32_t crc, const void *data, size_t len);  /* start from 0 */

int tinyc_link_request(uint32_t *len);  /* waits for "TCRQ", reads n: 0, or -1 if the console cannot receive */
int tinyc_link_read(void *data, size_t len, uint32_t *crc);
int tinyc_link_crc_ok(uint32_t crc);    /* reads the request's CRC: 1 if it is crc */
void tinyc_link_answer(uint32_t len, uint32_t *crc);  /* "TCRS" and n; the payload follows */
void tinyc_link_write(const void *data, size_t len, uint32_t *crc);
void tinyc_link_write_u32(uint32_t value, uint32_t *crc);
void tinyc_link_end(uint32_t crc);      /* the answer's CRC */

#endif /* TINYC_LINK_H */
