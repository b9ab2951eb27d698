// The vectorisable float32 exp shared by the elementwise maps and the attention kernels.
#ifndef NEURONE_NK_EXPF_H
#define NEURONE_NK_EXPF_H
#include <math.h>
#include <stdint.h>
#include <string.h>

// Above EXP_HI expf overflows; below EXP_LO even the smallest denormal rounds to 0.
#define EXP_HI 88.72283935546875f
#define EXP_LO -103.972084045410f

// e^v = 2^n · e^r with n = round(v / ln2) and |r| <= ln2/2: returns e^r (the Cephes degree-6
// polynomial) and n. v must already be clamped to the caller's range.
static inline __attribute__((always_inline)) float nk_exp_reduced(float v, float *n_out) {
    // round(v / ln2) with the 1.5*2^23 trick (no libm call, vectorisable)
    float n = (v * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = v - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
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

#endif
