// The activation rules of the C kernels, written once: every kernel that applies or
// differentiates an activation (elementwise.c's nk_activation_*, linear.c's packed epilogue,
// conv_direct.c through nk_activation_f32) uses these. NK_ACTIVATION_* in neurone_kernels.h names
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
#endif

#endif
