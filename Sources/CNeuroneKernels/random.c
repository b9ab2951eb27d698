// Uniform and dropout fills from Neurone's random stream (xoshiro256**, RandomStream.swift), the
// same values as drawing them one by one, in eight lanes at once.
//
// The stream is serial: each output comes from the state the previous step left. But the state
// transition s -> M·s is linear over GF(2), so M^c·s — the state c steps on — is r(M)·s for
// r(x) = x^c mod P(x), P the transition's characteristic polynomial (degree 256; Cayley–Hamilton),
// which is the reciprocal of the shortest recurrence of any output bit, found once by
// Berlekamp–Massey. Applying r takes 256 steps. So a fill of n values splits into eight chunks of
// c = n/8: lane j starts at the state j·c steps on and writes dst[j·c …]; eight steps of the eight
// lanes give an 8×8 block that one register transpose turns into eight runs of consecutive values;
// the last n − 8c values come from the state lane 7 ends in, which is then the stream's state
// after n values, as drawing them one by one leaves it.
//
// u = (x >> 40)·2^-24 as RandomStream.nextFloat; uniform: lo + span·u, dropout: u < keep ? scale : 0,
// each product and sum rounded on its own as in Swift (no contraction into a fused multiply-add).
#include "neurone_kernels.h"
#include <stdatomic.h>
#include <string.h>
#include "cpu_level.h"
#include "nk_avx2.h"

#pragma STDC FP_CONTRACT OFF

static inline uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t xo_next(uint64_t s[4]) {
    const uint64_t result = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

static inline float xo_value(uint64_t x, int32_t mode, float a, float b) {
    const float u = (float)(uint32_t)(x >> 40) * 0x1p-24f;
    return mode == NK_RANDOM_UNIFORM ? a + b * u : (u < a ? b : 0.0f);
}

// ---- polynomials over GF(2) of degree ≤ 256 (bit i: the coefficient of x^i) ----
#define PW 5 /* words of a reduced polynomial (257 bits) */

static uint64_t charpoly[PW];
static atomic_int charpoly_ready; /* set (release) once charpoly is written; read with acquire */

// P(x) from Berlekamp–Massey on 512 bits of the low bit of s0, from a fixed nonzero state.
static void find_charpoly(void) {
    enum { N = 512, W = N / 64 + 2 };
    uint8_t bits[N];
    uint64_t s[4] = {0x9E3779B97F4A7C15ull, 0xBF58476D1CE4E5B9ull, 0x94D049BB133111EBull, 1};
    for (int n = 0; n < N; n++) { bits[n] = (uint8_t)(s[0] & 1); xo_next(s); }
    uint64_t C[W] = {1}, B[W] = {1}, T[W];
    int L = 0, m = 1;
    for (int n = 0; n < N; n++) {
        int d = bits[n];
        for (int i = 1; i <= L; i++) d ^= (int)((C[i / 64] >> (i % 64)) & 1) & bits[n - i];
        if (!d) { m++; continue; }
        memcpy(T, C, sizeof C);
        for (int i = W * 64 - 1; i >= m; i--)                 /* C ^= B·x^m */
            if ((B[(i - m) / 64] >> ((i - m) % 64)) & 1) C[i / 64] ^= 1ull << (i % 64);
        if (2 * L <= n) { L = n + 1 - L; memcpy(B, T, sizeof T); m = 1; }
        else m++;
    }
    // P(x) = x^L·C(1/x): the coefficient of x^k is C's of x^(L − k); L = 256 for xoshiro256
    uint64_t p[PW] = {0};
    for (int k = 0; k <= L && k < PW * 64; k++)
        if ((C[(L - k) / 64] >> ((L - k) % 64)) & 1) p[k / 64] |= 1ull << (k % 64);
    /* two threads may both get here: they write the same polynomial */
    memcpy(charpoly, p, sizeof p);
    atomic_store_explicit(&charpoly_ready, 1, memory_order_release);
}
static inline void need_charpoly(void) {
    if (!atomic_load_explicit(&charpoly_ready, memory_order_acquire)) find_charpoly();
}

// a (w words) reduced mod P into r: each set bit i ≥ 256, from the top, cleared by P·x^(i − 256).
static void poly_reduce(uint64_t *a, int w, uint64_t r[PW]) {
    for (int i = w * 64 - 1; i >= 256; i--) {
        if (!((a[i / 64] >> (i % 64)) & 1)) continue;
        const int sh = i - 256, ws = sh / 64, bs = sh % 64;
        for (int k = 0; k < PW; k++) {
            a[k + ws] ^= charpoly[k] << bs;
            if (bs && k + ws + 1 < w) a[k + ws + 1] ^= charpoly[k] >> (64 - bs);
        }
    }
    for (int k = 0; k < PW; k++) r[k] = k < w ? a[k] : 0;
}

// The 32 bits of x spread to the even bits of a word (squaring over GF(2): bit i to bit 2i).
static inline uint64_t spread32(uint64_t x) {
    x &= 0xFFFFFFFFull;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFull;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFull;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0Full;
    x = (x | (x << 2)) & 0x3333333333333333ull;
    x = (x | (x << 1)) & 0x5555555555555555ull;
    return x;
}

// r = x^c mod P by squaring and multiplying by x, from c's highest bit.
static void x_pow_mod(uint64_t c, uint64_t r[PW]) {
    memset(r, 0, PW * sizeof(uint64_t));
    r[0] = 1;
    int top = 63;
    while (top > 0 && !((c >> top) & 1)) top--;
    for (int b = top; b >= 0; b--) {
        uint64_t sq[2 * PW] = {0};
        for (int k = 0; k < 4; k++) { sq[2 * k] = spread32(r[k]); sq[2 * k + 1] = spread32(r[k] >> 32); }
        poly_reduce(sq, 2 * PW, r);
        if ((c >> b) & 1) {
            uint64_t t[PW];
            for (int k = 0; k < PW; k++) t[k] = (r[k] << 1) | (k ? r[k - 1] >> 63 : 0);
            poly_reduce(t, PW, r);
        }
    }
}

// s = M^c·s for the r = x^c mod P of x_pow_mod.
static void apply_jump(const uint64_t r[PW], uint64_t s[4]) {
    uint64_t acc[4] = {0, 0, 0, 0}, t[4];
    memcpy(t, s, sizeof t);
    for (int k = 0; k < 256; k++) {
        if ((r[k / 64] >> (k % 64)) & 1)
            for (int w = 0; w < 4; w++) acc[w] ^= t[w];
        xo_next(t);
    }
    memcpy(s, acc, sizeof acc);
}

// ---- the fill ----
#define LANES 8
typedef uint64_t u64x8 __attribute__((vector_size(64)));
typedef float f32x8v __attribute__((vector_size(32)));
typedef int32_t i32x8 __attribute__((vector_size(32)));

// One step of the eight lanes (s[w]: word w of their states): their eight values, mode MODE.
#define LANE_STEP(MODE, s0, s1, s2, s3, av, bv, out)                                               \
    do {                                                                                           \
        const u64x8 m5 = (s1 << 2) + s1, rot = (m5 << 7) | (m5 >> 57);                             \
        const u64x8 x = (rot << 3) + rot, t = s1 << 17;                                            \
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;                                                    \
        s2 ^= t;                                                                                   \
        s3 = (s3 << 45) | (s3 >> 19);                                                              \
        const f32x8v u = __builtin_convertvector(__builtin_convertvector(x >> 40, i32x8), f32x8v) * 0x1p-24f; \
        f32x8v v;                                                                                  \
        if ((MODE) == NK_RANDOM_UNIFORM) v = av + bv * u;                                          \
        else v = (f32x8v)((i32x8)(u < av) & (i32x8)bv); /* b where u < a, else +0 */              \
        memcpy(&(out), &v, sizeof v);                                                              \
    } while (0)

// Eight lanes of c values each into dst[j·c + i]: blocks of eight steps in registers, transposed
// and stored as eight runs, then the last steps (fewer than eight) value by value.
#define DEFINE_LANES(NAME, ATTR, MODE)                                                             \
    ATTR static void NAME(u64x8 s[4], float *dst, int64_t c, float a, float b) {                   \
        u64x8 s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];                                          \
        const f32x8v av = (f32x8v){a, a, a, a, a, a, a, a}, bv = (f32x8v){b, b, b, b, b, b, b, b}; \
        int64_t i0 = 0;                                                                            \
        for (; i0 + 8 <= c; i0 += 8) {                                                             \
            __m256 blk[8], t8[8];                                                                  \
            _Pragma("clang loop unroll(full)")                                                     \
            for (int i = 0; i < 8; i++) LANE_STEP(MODE, s0, s1, s2, s3, av, bv, blk[i]);            \
            nk_transpose8x8(blk, t8);                                                              \
            _Pragma("clang loop unroll(full)")                                                     \
            for (int j = 0; j < LANES; j++) _mm256_storeu_ps(dst + j * c + i0, t8[j]);             \
        }                                                                                          \
        for (; i0 < c; i0++) {                                                                     \
            __m256 one;                                                                            \
            float f[8];                                                                            \
            LANE_STEP(MODE, s0, s1, s2, s3, av, bv, one);                                          \
            memcpy(f, &one, sizeof f);                                                             \
            for (int j = 0; j < LANES; j++) dst[j * c + i0] = f[j];                                \
        }                                                                                          \
        s[0] = s0; s[1] = s1; s[2] = s2; s[3] = s3;                                                \
    }

#if defined(__x86_64__) || defined(__i386__)
#define ATTR512 __attribute__((target("avx512f,avx512dq,avx2,fma")))
#define ATTR256 __attribute__((target("avx2,fma")))
DEFINE_LANES(uniform_avx512, ATTR512, NK_RANDOM_UNIFORM)
DEFINE_LANES(dropout_avx512, ATTR512, NK_RANDOM_DROPOUT)
DEFINE_LANES(uniform_avx2, ATTR256, NK_RANDOM_UNIFORM)
DEFINE_LANES(dropout_avx2, ATTR256, NK_RANDOM_DROPOUT)
#endif

// Below this many values the serial loop is as fast (the seven jumps cost ~10 µs).
#define LANES_MIN 16384

// The jump polynomials of the last few chunk lengths, kept: each dropout layer fills the same
// count every step.
#define CACHED 8
static _Thread_local uint64_t cached_key[CACHED], cached_r[CACHED][PW]; /* key c + 1; 0: empty */
static _Thread_local int cached_next;

static const uint64_t *jump_poly(uint64_t c) {
    for (int i = 0; i < CACHED; i++)
        if (cached_key[i] == c + 1) return cached_r[i];
    const int i = cached_next;
    cached_next = (cached_next + 1) % CACHED;
    x_pow_mod(c, cached_r[i]);
    cached_key[i] = c + 1;
    return cached_r[i];
}

void nk_random_jump(uint64_t *state, uint64_t steps) {
    need_charpoly();
    apply_jump(jump_poly(steps), state);
}

void nk_random_fill_f32(uint64_t *state, float *dst, int64_t count, int32_t mode, float a, float b) {
    int64_t done = 0;
#if defined(__x86_64__) || defined(__i386__)
    const int level = nk_cpu_level();
    if (level >= 1 && count >= LANES_MIN) {
        const int64_t c = count / LANES;
        need_charpoly();
        const uint64_t *r = jump_poly((uint64_t)c);
        uint64_t st[LANES][4];
        memcpy(st[0], state, sizeof st[0]);
        for (int j = 1; j < LANES; j++) { memcpy(st[j], st[j - 1], sizeof st[j]); apply_jump(r, st[j]); }
        u64x8 s[4];
        for (int w = 0; w < 4; w++)
            for (int j = 0; j < LANES; j++) s[w][j] = st[j][w];
        if (level == 2) (mode == NK_RANDOM_UNIFORM ? uniform_avx512 : dropout_avx512)(s, dst, c, a, b);
        else (mode == NK_RANDOM_UNIFORM ? uniform_avx2 : dropout_avx2)(s, dst, c, a, b);
        for (int w = 0; w < 4; w++) state[w] = s[w][LANES - 1]; /* lane 7 ends 8c steps on */
        done = LANES * c;
    }
#endif
    for (int64_t i = done; i < count; i++) dst[i] = xo_value(xo_next(state), mode, a, b);
}
