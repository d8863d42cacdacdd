/* tinyc_uf2.c: a host tool: a flash image (objcopy -O binary of the firmware) -> a UF2 file, the format
 * a board's USB-drive boot loader takes (Microsoft's UF2 specification, github.com/microsoft/uf2):
 * 512-byte blocks, each carrying 256 bytes of the image at its flash address.
 *
 *   tinyc_uf2 IMAGE.bin BASE_ADDRESS FAMILY_ID OUT.uf2      e.g. 0x10000000 0xE48BFF56 (RP2040) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC_START0 0x0A324655u  /* "UF2\n" */
#define MAGIC_START1 0x9E5D5157u
#define MAGIC_END 0x0AB16F30u
#define FLAG_FAMILY_ID 0x00002000u /* the word before the payload is a family ID, not a file size */
#define PAYLOAD 256u               /* bytes per block, as every UF2 boot loader accepts */
#define BLOCK 512u

static void put_u32(uint8_t *at, uint32_t value)
{
    at[0] = (uint8_t)value;
    at[1] = (uint8_t)(value >> 8);
    at[2] = (uint8_t)(value >> 16);
    at[3] = (uint8_t)(value >> 24);
}

static int fail(const char *what, const char *path)
{
    fprintf(stderr, "tinyc_uf2: %s %s\n", what, path);
    return 1;
}

int main(int argc, char **argv)
{
    FILE *in, *out;
    long size;
    uint32_t base, family, blocks, i;
    uint8_t *image;
    if (argc != 5) {
        fprintf(stderr, "usage: tinyc_uf2 IMAGE.bin BASE_ADDRESS FAMILY_ID OUT.uf2\n");
        return 2;
    }
    base = (uint32_t)strtoul(argv[2], NULL, 0);
    family = (uint32_t)strtoul(argv[3], NULL, 0);
    in = fopen(argv[1], "rb");
    if (in == NULL || fseek(in, 0, SEEK_END) != 0 || (size = ftell(in)) <= 0 || fseek(in, 0, SEEK_SET) != 0) {
        return fail("cannot read", argv[1]);
    }
    blocks = (uint32_t)(((unsigned long)size + PAYLOAD - 1u) / PAYLOAD);
    image = calloc(blocks, PAYLOAD);  /* the last page's tail stays zero */
    if (image == NULL || fread(image, 1, (size_t)size, in) != (size_t)size) {
        return fail("cannot read", argv[1]);
    }
    fclose(in);
    out = fopen(argv[4], "wb");
    if (out == NULL) {
        return fail("cannot write", argv[4]);
    }
    for (i = 0; i < blocks; i++) {
        uint8_t block[BLOCK];
        memset(block, 0, sizeof block);
        put_u32(block + 0, MAGIC_START0);
        put_u32(block + 4, MAGIC_START1);
        put_u32(block + 8, FLAG_FAMILY_ID);
        put_u32(block + 12, base + i * PAYLOAD);
        put_u32(block + 16, PAYLOAD);
        put_u32(block + 20, i);
        put_u32(block + 24, blocks);
        put_u32(block + 28, family);
        memcpy(block + 32, image + (size_t)i * PAYLOAD, PAYLOAD);
        put_u32(block + BLOCK - 4u, MAGIC_END);
        if (fwrite(block, 1, BLOCK, out) != BLOCK) {
            return fail("cannot write", argv[4]);
        }
    }
    free(image);
    return fclose(out) == 0 ? 0 : fail("cannot write", argv[4]);
}
