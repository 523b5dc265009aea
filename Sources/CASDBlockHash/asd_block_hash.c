#include "asd_block_hash.h"

#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* See asd_block_hash.h. Data is processed in stripes of 64 bytes, 16 stripes
 * per round; stripe s of a round uses key words s..s+7, the scramble after a
 * round key words 120..127. Loads are little-endian on every supported
 * target; on a big-endian one the values differ but stay consistent on it. */

enum { STRIPE = 64, ROUND_STRIPES = 16, SCRAMBLE_KEY = 120 };
static const uint64_t PRIME32 = 0x9E3779B1ULL;
static const uint64_t PRIME64_1 = 0x9E3779B185EBCA87ULL;
static const uint64_t PRIME64_2 = 0xC2B2AE3D27D4EB4FULL;

static inline uint64_t load64(const uint8_t *p) {
    uint64_t value;
    memcpy(&value, p, sizeof value);
    return value;
}

static void stripe_c(uint64_t *acc, const uint8_t *p, const uint64_t *key) {
    for (int i = 0; i < 8; i++) {
        uint64_t data = load64(p + 8 * i), keyed = data ^ key[i];
        acc[i ^ 1] += data;
        acc[i] += (keyed & 0xFFFFFFFFULL) * (keyed >> 32);
    }
}

static void scramble_c(uint64_t *acc, const uint64_t *key) {
    for (int i = 0; i < 8; i++) {
        uint64_t a = acc[i];
        a ^= a >> 47;
        a ^= key[i];
        acc[i] = a * PRIME32;
    }
}

/* Whole rounds of `rounds` * 1 KiB. */
static void rounds_c(uint64_t *acc, const uint8_t *p, size_t rounds, const uint64_t *key) {
    for (size_t r = 0; r < rounds; r++, p += STRIPE * ROUND_STRIPES) {
        for (int s = 0; s < ROUND_STRIPES; s++) stripe_c(acc, p + STRIPE * s, key + s);
        scramble_c(acc, key + SCRAMBLE_KEY);
    }
}

#if defined(__x86_64__)
static void rounds_sse2(uint64_t *acc, const uint8_t *p, size_t rounds, const uint64_t *key) {
    __m128i a[4];
    for (int i = 0; i < 4; i++) a[i] = _mm_loadu_si128((const __m128i *)(acc + 2 * i));
    const __m128i prime = _mm_set1_epi32((int)PRIME32);
    for (size_t r = 0; r < rounds; r++, p += STRIPE * ROUND_STRIPES) {
        for (int s = 0; s < ROUND_STRIPES; s++) {
            const uint8_t *q = p + STRIPE * s;
            for (int i = 0; i < 4; i++) {
                __m128i data = _mm_loadu_si128((const __m128i *)(q + 16 * i));
                __m128i keyed = _mm_xor_si128(data, _mm_loadu_si128((const __m128i *)(key + s + 2 * i)));
                __m128i product = _mm_mul_epu32(keyed, _mm_srli_epi64(keyed, 32));
                __m128i swapped = _mm_shuffle_epi32(data, _MM_SHUFFLE(1, 0, 3, 2));
                a[i] = _mm_add_epi64(a[i], _mm_add_epi64(product, swapped));
            }
        }
        for (int i = 0; i < 4; i++) {
            __m128i v = _mm_xor_si128(a[i], _mm_srli_epi64(a[i], 47));
            v = _mm_xor_si128(v, _mm_loadu_si128((const __m128i *)(key + SCRAMBLE_KEY + 2 * i)));
            /* v * PRIME32 mod 2^64 = lo32*P + (hi32*P << 32) */
            __m128i lo = _mm_mul_epu32(v, prime), hi = _mm_mul_epu32(_mm_srli_epi64(v, 32), prime);
            a[i] = _mm_add_epi64(lo, _mm_slli_epi64(hi, 32));
        }
    }
    for (int i = 0; i < 4; i++) _mm_storeu_si128((__m128i *)(acc + 2 * i), a[i]);
}

__attribute__((target("avx2")))
static void rounds_avx2(uint64_t *acc, const uint8_t *p, size_t rounds, const uint64_t *key) {
    __m256i a[2];
    for (int i = 0; i < 2; i++) a[i] = _mm256_loadu_si256((const __m256i *)(acc + 4 * i));
    const __m256i prime = _mm256_set1_epi32((int)PRIME32);
    for (size_t r = 0; r < rounds; r++, p += STRIPE * ROUND_STRIPES) {
        for (int s = 0; s < ROUND_STRIPES; s++) {
            const uint8_t *q = p + STRIPE * s;
            for (int i = 0; i < 2; i++) {
                __m256i data = _mm256_loadu_si256((const __m256i *)(q + 32 * i));
                __m256i keyed = _mm256_xor_si256(data, _mm256_loadu_si256((const __m256i *)(key + s + 4 * i)));
                __m256i product = _mm256_mul_epu32(keyed, _mm256_srli_epi64(keyed, 32));
                __m256i swapped = _mm256_shuffle_epi32(data, _MM_SHUFFLE(1, 0, 3, 2));
                a[i] = _mm256_add_epi64(a[i], _mm256_add_epi64(product, swapped));
            }
        }
        for (int i = 0; i < 2; i++) {
            __m256i v = _mm256_xor_si256(a[i], _mm256_srli_epi64(a[i], 47));
            v = _mm256_xor_si256(v, _mm256_loadu_si256((const __m256i *)(key + SCRAMBLE_KEY + 4 * i)));
            __m256i lo = _mm256_mul_epu32(v, prime), hi = _mm256_mul_epu32(_mm256_srli_epi64(v, 32), prime);
            a[i] = _mm256_add_epi64(lo, _mm256_slli_epi64(hi, 32));
        }
    }
    for (int i = 0; i < 2; i++) _mm256_storeu_si256((__m256i *)(acc + 4 * i), a[i]);
}
#endif

typedef void (*rounds_fn)(uint64_t *, const uint8_t *, size_t, const uint64_t *);

static rounds_fn pick(int variant, int *chosen) {
#if defined(__x86_64__)
    if (variant == 2) { *chosen = 2; return rounds_sse2; }
    if (variant == 0) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2")) { *chosen = 3; return rounds_avx2; }
        *chosen = 2;
        return rounds_sse2;
    }
#else
    (void)variant;
#endif
    *chosen = 1;
    return rounds_c;
}

/* Selected once (a data race on first use is benign: every writer stores the same pointer). */
static rounds_fn selected;
static int selected_variant;

int asd_block_hash_select(int variant) {
    selected = pick(variant, &selected_variant);
    return selected_variant;
}

static inline uint64_t fold(uint64_t a, uint64_t b) {
    __uint128_t product = (__uint128_t)a * b;
    return (uint64_t)product ^ (uint64_t)(product >> 64);
}

static inline uint64_t avalanche(uint64_t h) {
    h ^= h >> 37;
    h *= 0x165667919E3779F9ULL;
    h ^= h >> 32;
    return h;
}

void asd_block_hash_expand(uint64_t seed0, uint64_t seed1, uint64_t *key) {
    uint64_t state = seed0 ^ (seed1 * PRIME64_1);
    for (int i = 0; i < ASD_BLOCK_HASH_KEY_WORDS; i++) {
        uint64_t z = (state += 0x9E3779B97F4A7C15ULL) + (i & 1 ? seed1 : 0);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        key[i] = z ^ (z >> 31);
    }
}

void asd_block_hash128(const void *data, size_t length, const uint64_t *key, uint64_t *out) {
    if (!selected) asd_block_hash_select(0);
    const uint8_t *p = data;
    uint64_t acc[8] = {PRIME32, PRIME64_1, PRIME64_2, key[100], key[101], PRIME64_2 ^ PRIME64_1, PRIME64_1 >> 1, PRIME32 << 7};
    size_t rounds = length / (STRIPE * ROUND_STRIPES);
    selected(acc, p, rounds, key);
    size_t done = rounds * STRIPE * ROUND_STRIPES, left = length - done;
    /* The rest: whole stripes, then the last (partial) one zero-padded; the length is mixed in below. */
    int s = 0;
    for (; left >= STRIPE; s++, done += STRIPE, left -= STRIPE) stripe_c(acc, p + done, key + s);
    if (left > 0) {
        uint8_t last[STRIPE] = {0};
        memcpy(last, p + done, left);
        stripe_c(acc, last, key + s);
    }
    scramble_c(acc, key + SCRAMBLE_KEY);
    uint64_t low = (uint64_t)length * PRIME64_1, high = ~(uint64_t)length * PRIME64_2;
    for (int i = 0; i < 4; i++) {
        low += fold(acc[2 * i] ^ key[24 + 2 * i], acc[2 * i + 1] ^ key[25 + 2 * i]);
        high += fold(acc[2 * i] ^ key[40 + 2 * i], acc[(2 * i + 3) & 7] ^ key[41 + 2 * i]);
    }
    out[0] = avalanche(low);
    out[1] = avalanche(high ^ (low >> 29));
}

size_t asd_block_hashes(const void *data, size_t length, size_t block, const uint64_t *key, uint64_t *out) {
    const uint8_t *p = data;
    size_t count = 0;
    for (size_t offset = 0; offset < length; offset += block, count++) {
        size_t size = length - offset < block ? length - offset : block;
        asd_block_hash128(p + offset, size, key, out + 2 * count);
    }
    return count;
}
