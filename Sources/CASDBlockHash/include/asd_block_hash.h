#ifndef ASD_BLOCK_HASH_H
#define ASD_BLOCK_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The block checksum of asd's block records (doc/DESIGN.md §6.6):
 * a keyed 128-bit hash in the style of XXH3's long-input loop (eight 64-bit
 * lanes, 32x32->64 multiplies of data xor key, the data itself added to the
 * neighbour lane, a scramble every KiB, a 64x64->128 fold of every lane into
 * each half of the result). Not cryptographic; keyed by a random secret that
 * only root can read. */

/* Words of key a hash needs (asd_block_hash_expand fills them from a seed). */
#define ASD_BLOCK_HASH_KEY_WORDS 128

/* Fills key[ASD_BLOCK_HASH_KEY_WORDS] from a 128-bit seed (splitmix64). */
void asd_block_hash_expand(uint64_t seed0, uint64_t seed1, uint64_t *key);

/* The hash of data[0..<length] into out[2]. */
void asd_block_hash128(const void *data, size_t length, const uint64_t *key, uint64_t *out);

/* The hashes of consecutive blocks of `block` bytes (the last one may be
 * shorter) into out[2 * blocks]; returns the number of blocks. */
size_t asd_block_hashes(const void *data, size_t length, size_t block, const uint64_t *key, uint64_t *out);

/* 0: best for this CPU (AVX2 where the CPU has it, else SSE2 or plain C);
 * 1: plain C; 2: SSE2 (x86_64 only). For tests and benchmarks. Returns the
 * variant in use afterwards. */
int asd_block_hash_select(int variant);

#endif
