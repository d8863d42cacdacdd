/* tinyc_link.c: see tinyc_link.h. */
#include "tinyc_link.h"

#include "tinyc_console.h"

static const uint8_t REQUEST[4] = {'T', 'C', 'R', 'Q'};
static const uint8_t ANSWER[4] = {'T', 'C', 'R', 'S'};

uint32_t tinyc_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *bytes = (const uint8_t *)data;
    size_t i;
    int bit;
    crc = ~crc;
    for (i = 0; i < len; i++) {
        crc ^= bytes[i];
        for (bit = 0; bit < 8; bit++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));  /* reflected polynomial 0x04C11DB7 */
        }
    }
    return ~crc;
}

static int read_u32(uint32_t *value)
{
    uint8_t b[4];
    if (tinyc_console_read(b, 4) != 0) {
        return -1;
    }
    *value = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 0;
}

int tinyc_link_request(uint32_t *len)
{
    size_t matched = 0;
    while (matched < sizeof REQUEST) {  /* the magic may start anywhere: restart on a mismatch */
        uint8_t b;
        if (tinyc_console_read(&b, 1) != 0) {
            return -1;
        }
        matched = b == REQUEST[matched] ? matched + 1 : (b == REQUEST[0] ? 1u : 0u);
    }
    return read_u32(len);
}

int tinyc_link_read(void *data, size_t len, uint32_t *crc)
{
    if (tinyc_console_read(data, len) != 0) {
        return -1;
    }
    *crc = tinyc_crc32(*crc, data, len);
    return 0;
}

int tinyc_link_crc_ok(uint32_t crc)
{
    uint32_t sent;
    return read_u32(&sent) == 0 && sent == crc;
}

void tinyc_link_answer(uint32_t len, uint32_t *crc)
{
    tinyc_console_write(ANSWER, sizeof ANSWER);
    *crc = 0u;
    tinyc_link_write_u32(len, crc);
    *crc = 0u;  /* the CRC covers the payload only */
}

void tinyc_link_write(const void *data, size_t len, uint32_t *crc)
{
    tinyc_console_write(data, len);
    *crc = tinyc_crc32(*crc, data, len);
}

void tinyc_link_write_u32(uint32_t value, uint32_t *crc)
{
    uint8_t b[4];
    b[0] = (uint8_t)value;
    b[1] = (uint8_t)(value >> 8);
    b[2] = (uint8_t)(value >> 16);
    b[3] = (uint8_t)(value >> 24);
    tinyc_link_write(b, 4, crc);
}

void tinyc_link_end(uint32_t crc)
{
    uint32_t ignored = 0u;
    tinyc_link_write_u32(crc, &ignored);
}
