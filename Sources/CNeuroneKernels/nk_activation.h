// The activation rules of the C kernels, written once: every kernel that applies or
// differentiates an activation (elementwise.c's nk_activation_*, linear.c's packed epilogue and
// its pack of g with the gradient, conv_direct.c through nk_activation_f32) uses these (the
// vector forms below restate them lane by lane). NK_ACTIVATION_* in neurone_kernels.h names
// them for Swift (FusedActivation); CPUBackend's Swift loops follow the same rules for every dtype
// and the reference backend states them again on purpose, as the oracle.
#ifndef NEURONE_NK_ACTIVATION_H
#define NEURONE_NK_ACTIVATION_H

// relu: y < 0 ? 0 : y — a NaN and −0 pass unchanged (as PyTorch's relu).
#define NK_RELU(v) ((v) < 0 ? 0 : (v))
// relu's gradient from the saved input x: 0 where x <= 0, else g (a NaN input passes g).
#define NK_RELU_GRAD(g, x) ((x) <= 0 ? 0 : (g))
// tanh's gradient from the saved output y: g·(1 − y²).
#define NK_TANH_GRAD(g, y) ((g) * (1 - (y) * (y)))
// sigmoid's gradient from the saved output y: g·y·(1 − y).
#define NK_SIGMOID_GRAD(g, y) ((g) * (y) * (1 - (y)))

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
// NK_RELU on eight floats in a register: lanes below zero cleared (NaN and −0 compare false).
__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline)) __m256 nk_relu_m256(__m256 v) {
    return _mm256_andnot_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ), v);
}
// The three gradients above on vectors, rounded as the scalar rules (no contraction): relu's
// lanes where the saved value is ≤ 0 cleared (NaN passes g), g·(1 − y·y), (g·y)·(1 − y).
__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline)) __m256 nk_relu_grad_m256(__m256 g, __m256 x) {
    return _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LE_OQ), g);
}
__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline)) __m256 nk_tanh_grad_m256(__m256 g, __m256 y) {
    return _mm256_mul_ps(g, _mm256_sub_ps(_mm256_set1_ps(1), _mm256_mul_ps(y, y)));
}
__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline)) __m256 nk_sigmoid_grad_m256(__m256 g, __m256 y) {
    return _mm256_mul_ps(_mm256_mul_ps(g, y), _mm256_sub_ps(_mm256_set1_ps(1), y));
}
__attribute__((target("avx512f,avx512dq,avx2,fma"))) static inline __attribute__((always_inline)) __m512 nk_relu_grad_m512(__m512 g, __m512 x) {
    return _mm512_maskz_mov_ps((__mmask16)~_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LE_OQ), g);
}
__attribute__((target("avx512f,avx512dq,avx2,fma"))) static inline __attribute__((always_inline)) __m512 nk_tanh_grad_m512(__m512 g, __m512 y) {
    return _mm512_mul_ps(g, _mm512_sub_ps(_mm512_set1_ps(1), _mm512_mul_ps(y, y)));
}
__attribute__((target("avx512f,avx512dq,avx2,fma"))) static inline __attribute__((always_inline)) __m512 nk_sigmoid_grad_m512(__m512 g, __m512 y) {
    return _mm512_mul_ps(_mm512_mul_ps(g, y), _mm512_sub_ps(_mm512_set1_ps(1), y));
}
#endif

#endif
