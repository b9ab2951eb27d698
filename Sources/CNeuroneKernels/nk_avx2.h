// Small AVX2 and AVX-512 helpers shared by the intrinsics kernels (attention.c, linear.c, gemm.c,
// elementwise.c, random.c, wgrad_rows.c); x86 only.
#ifndef NEURONE_NK_AVX2_H
#define NEURONE_NK_AVX2_H
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <stdint.h>

// For helpers written with AVX2 intrinsics: inlined into callers compiled for AVX2 and FMA.
#define NK_AVX2_INLINE __attribute__((target("avx2,fma"))) static inline __attribute__((always_inline))
// For helpers and kernels written with AVX-512 intrinsics (the CPU level 2 of cpu_level.h).
#define NK_AVX512_INLINE __attribute__((target("avx512f,avx512dq,avx2,fma"))) static inline __attribute__((always_inline))
#define NK_AVX512 __attribute__((target("avx512f,avx512dq,avx2,fma")))

// The first `left` lanes of a 16-lane vector (all of them when left ≥ 16): the columns that
// exist in the last 16-wide block of a row.
static inline __mmask16 nk_live_mask16(int64_t left) { return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u); }

// The transpose of the 8×8 block whose rows are r[0..7]: t[a] = column a of the block.
NK_AVX2_INLINE void nk_transpose8x8(const __m256 r[8], __m256 t[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    t[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    t[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    t[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    t[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    t[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    t[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    t[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    t[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// The transpose of the 16×16 block whose rows are r[0..15] (AVX-512): t[a] = column a. Rows are
// taken in fours within each 128-bit lane (unpack, shuffle: u[4g + c] lane L = column 4L + c of
// rows 4g … 4g + 3), then the lanes of u[c], u[4 + c], u[8 + c], u[12 + c] are transposed as a
// 4×4 block (shuffle_f32x4): 64 shuffles in all.
NK_AVX512_INLINE void nk_transpose16x16(const __m512 r[16], __m512 t[16]) {
    __m512 u[16];
    for (int g = 0; g < 4; g++) {
        const __m512 t0 = _mm512_unpacklo_ps(r[4 * g], r[4 * g + 1]), t1 = _mm512_unpackhi_ps(r[4 * g], r[4 * g + 1]);
        const __m512 t2 = _mm512_unpacklo_ps(r[4 * g + 2], r[4 * g + 3]), t3 = _mm512_unpackhi_ps(r[4 * g + 2], r[4 * g + 3]);
        u[4 * g] = _mm512_shuffle_ps(t0, t2, 0x44);
        u[4 * g + 1] = _mm512_shuffle_ps(t0, t2, 0xEE);
        u[4 * g + 2] = _mm512_shuffle_ps(t1, t3, 0x44);
        u[4 * g + 3] = _mm512_shuffle_ps(t1, t3, 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        const __m512 x0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44), x1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
        const __m512 y0 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44), y1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
        t[c] = _mm512_shuffle_f32x4(x0, y0, 0x88);
        t[4 + c] = _mm512_shuffle_f32x4(x0, y0, 0xDD);
        t[8 + c] = _mm512_shuffle_f32x4(x1, y1, 0x88);
        t[12 + c] = _mm512_shuffle_f32x4(x1, y1, 0xDD);
    }
}

// Stores the transpose of the 8×8 block whose rows are r[0..7]: row a of the result (column a of
// the block) goes to dst + a·stride.
NK_AVX2_INLINE void nk_transpose8x8_store(const __m256 r[8], float *dst, int64_t stride) {
    __m256 t[8];
    nk_transpose8x8(r, t);
    for (int a = 0; a < 8; a++) _mm256_storeu_ps(dst + a * stride, t[a]);
}

// Masks of the first `left` lanes (all 16 when left ≥ 16) of a 16-column panel split into two
// 8-lane halves: the columns that exist in the last panel of a matrix whose width is not a
// multiple of 16, for _mm256_maskload_ps / _mm256_maskstore_ps.
NK_AVX2_INLINE void nk_live_lanes16(int64_t left, __m256i *live0, __m256i *live1) {
    int32_t lanes[16];
    for (int a = 0; a < 16; a++) lanes[a] = a < left ? -1 : 0;
    *live0 = _mm256_loadu_si256((const __m256i *)lanes);
    *live1 = _mm256_loadu_si256((const __m256i *)(lanes + 8));
}
#endif
#endif
