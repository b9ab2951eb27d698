// The vectorisable float32 exp shared by the elementwise maps and the attention kernels.
#ifndef NEURONE_NK_EXPF_H
#define NEURONE_NK_EXPF_H
#include <math.h>
#include <stdint.h>
#include <string.h>

// Above EXP_HI expf overflows; below EXP_LO even the smallest denormal rounds to 0.
#define EXP_HI 88.72283935546875f
#define EXP_LO -103.972084045410f

// The constants of the range reduction (ln 2 split in a high part exact in float and a low part)
// and of the Cephes degree-6 polynomial, shared by the scalar and the AVX2 versions below.
#define NK_LOG2E 1.44269504088896341f
#define NK_ROUND_MAGIC 12582912.0f /* 1.5·2^23: (x + M) − M rounds x to an integer */
#define NK_LN2_HI 0.693359375f
#define NK_LN2_LO -2.12194440e-4f
#define NK_EXP_P0 1.9875691500E-4f
#define NK_EXP_P1 1.3981999507E-3f
#define NK_EXP_P2 8.3334519073E-3f
#define NK_EXP_P3 4.1665795894E-2f
#define NK_EXP_P4 1.6666665459E-1f
#define NK_EXP_P5 5.0000001201E-1f

// e^v = 2^n · e^r with n = round(v / ln2) and |r| <= ln2/2: returns e^r (the Cephes degree-6
// polynomial) and n. v must already be clamped to the caller's range.
static inline __attribute__((always_inline)) float nk_exp_reduced(float v, float *n_out) {
    // round(v / ln2) with the 1.5*2^23 trick (no libm call, vectorisable)
    float n = (v * NK_LOG2E + NK_ROUND_MAGIC) - NK_ROUND_MAGIC;
    float r = v - n * NK_LN2_HI;
    r = r - n * NK_LN2_LO;
    float p = NK_EXP_P0;
    p = p * r + NK_EXP_P1;
    p = p * r + NK_EXP_P2;
    p = p * r + NK_EXP_P3;
    p = p * r + NK_EXP_P4;
    p = p * r + NK_EXP_P5;
    *n_out = n;
    return p * (r * r) + r + 1.0f;
}

static inline __attribute__((always_inline)) float nk_expf(float x) {
    float v = x > EXP_HI ? EXP_HI : x;
    v = v < EXP_LO ? EXP_LO : v;
    float n;
    float y = nk_exp_reduced(v, &n);
    // 2^n as two normal powers of two (n in [-150, 128]) so that results near overflow and
    // in the denormal range are exact products rather than out-of-range exponents.
    int32_t ni = (int32_t)n;
    int32_t n1 = ni / 2, n2 = ni - n1;
    uint32_t b1 = (uint32_t)(n1 + 127) << 23, b2 = (uint32_t)(n2 + 127) << 23;
    float s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    y = (y * s1) * s2;
    y = x > EXP_HI ? INFINITY : y;
    y = x < EXP_LO ? 0.0f : y;
    return y;
}

// exp for x <= 0 (softmax after subtracting the row maximum), same polynomial as nk_expf: the
// result lies in [0, 1], so there is no overflow clamp and 2^n, n in [-126, 0], is one normal
// power of two; below -87.3 (results under the smallest normal float) it is 0. NaN stays NaN.
#define EXP_NONPOS_LO -87.33654475f
static inline __attribute__((always_inline)) float nk_expf_nonpos(float x) {
    float v = x < EXP_NONPOS_LO ? EXP_NONPOS_LO : x;
    float n;
    float y = nk_exp_reduced(v, &n);
    uint32_t b = (uint32_t)((int32_t)n + 127) << 23;
    float s;
    memcpy(&s, &b, sizeof s);
    y = y * s;
    return x < EXP_NONPOS_LO ? 0.0f : y;
}


#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
// nk_exp_reduced on a vector of intrinsics prefix PFX (_mm256, _mm512): sets n to round(v·log2e)
// and gives e^r's polynomial, r = v − n·ln2 — the same operations in the same order (the round by
// a fused multiply-add with the 1.5·2^23 constant, as clang contracts the scalar code), so the
// same values; v must already be clamped to the caller's range.
#define NK_EXP_REDUCED_VEC(PFX, v, n)                                                           \
    ({                                                                                          \
        const __typeof__(n) magic_ = PFX##_set1_ps(NK_ROUND_MAGIC);                             \
        (n) = PFX##_sub_ps(PFX##_fmadd_ps((v), PFX##_set1_ps(NK_LOG2E), magic_), magic_);       \
        __typeof__(n) r_ = PFX##_fnmadd_ps((n), PFX##_set1_ps(NK_LN2_HI), (v));                 \
        r_ = PFX##_fnmadd_ps((n), PFX##_set1_ps(NK_LN2_LO), r_);                                \
        __typeof__(n) p_ = PFX##_set1_ps(NK_EXP_P0);                                            \
        p_ = PFX##_fmadd_ps(p_, r_, PFX##_set1_ps(NK_EXP_P1));                                  \
        p_ = PFX##_fmadd_ps(p_, r_, PFX##_set1_ps(NK_EXP_P2));                                  \
        p_ = PFX##_fmadd_ps(p_, r_, PFX##_set1_ps(NK_EXP_P3));                                  \
        p_ = PFX##_fmadd_ps(p_, r_, PFX##_set1_ps(NK_EXP_P4));                                  \
        p_ = PFX##_fmadd_ps(p_, r_, PFX##_set1_ps(NK_EXP_P5));                                  \
        PFX##_add_ps(PFX##_fmadd_ps(p_, PFX##_mul_ps(r_, r_), r_), PFX##_set1_ps(1.0f));        \
    })

// nk_expf_nonpos on eight lanes, for kernels written with AVX2 intrinsics: the same arithmetic
// (the same reduction, polynomial and clamp), so both give the same results.
__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline)) __m256 nk_expf_nonpos8(__m256 x) {
    const __m256 lo = _mm256_set1_ps(EXP_NONPOS_LO);
    const __m256 v = _mm256_max_ps(lo, x); /* max(lo, NaN) is NaN: NaN stays NaN */
    __m256 n;
    __m256 y = NK_EXP_REDUCED_VEC(_mm256, v, n);
    __m256i b = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    y = _mm256_mul_ps(y, _mm256_castsi256_ps(b));
    return _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(x, lo, _CMP_LT_OQ));
}
#endif

#endif
