/* CPU time per GiB of asd's block checksum (Sources/CASDBlockHash), for each
 * implementation, over 64 KiB blocks of a 256 MiB buffer (Tests/bench/reads.sh). */
#include "asd_block_hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return now.tv_sec + now.tv_nsec / 1e9;
}

int main(void) {
    const size_t size = (size_t)256 << 20, block = 65536;
    unsigned char *data = malloc(size);
    uint64_t *out = malloc(16 * (size / block)), key[ASD_BLOCK_HASH_KEY_WORDS];
    if (!data || !out) return 1;
    for (size_t i = 0; i < size; i++) data[i] = (unsigned char)(i * 131 + (i >> 13));
    asd_block_hash_expand(1, 2, key);
    const char *names[] = {"", "plain C", "SSE2", "AVX2"};
    for (int variant = 1; variant <= 3; variant++) {
        int used = asd_block_hash_select(variant == 3 ? 0 : variant);
        if (variant == 3 && used != 3) break;
        double start = cpu_seconds();
        for (int pass = 0; pass < 4; pass++) asd_block_hashes(data, size, block, key, out);
        printf("block checksum, %s: %.3f s CPU per GiB\n", names[used], cpu_seconds() - start);
    }
    return 0;
}
