// The fused optimiser updates (CPUOptimizerUpdates.swift): one pass over a parameter and its
// state, in place, elements [a, b). The arithmetic is the tensor-op formulation's (and
// torch.optim's), operation by operation: no contraction into FMAs, so every CPU level gives the
// same bits. Each body is compiled for AVX-512, AVX2 and the baseline, chosen at run time; the
// loops are streams, bound by memory bandwidth, so the wider vectors mostly save instructions.
#include "neurone_kernels.h"
#include <math.h>
#include "cpu_level.h"

#pragma STDC FP_CONTRACT OFF

#define SGD_BODY(T)                                                                   \
    for (int64_t i = a; i < b; i++) {                                                 \
        T gi = maximize ? -g[i] : g[i];                                               \
        if (wd != 0) gi = gi + p[i] * wd;                                             \
        p[i] = p[i] - gi * lr;                                                        \
    }
#define MOMENTUM_BODY(T)                                                              \
    const T keep = 1 - dampening;                                                     \
    for (int64_t i = a; i < b; i++) {                                                 \
        T gi = maximize ? -g[i] : g[i];                                               \
        if (wd != 0) gi = gi + p[i] * wd;                                             \
        const T bi = first ? gi : buf[i] * momentum + gi * keep;                      \
        buf[i] = bi;                                                                  \
        const T step = nesterov ? gi + bi * momentum : bi;                            \
        p[i] = p[i] - step * lr;                                                      \
    }
#define ADADELTA_BODY(T, SQRT)                                                        \
    const T oneMinusRho = 1 - rho;                                                    \
    for (int64_t i = a; i < b; i++) {                                                 \
        T gi = g[i];                                                                  \
        if (wd != 0) gi = gi + p[i] * wd;                                             \
        sq[i] = sq[i] * rho + gi * gi * oneMinusRho;                                  \
        const T delta = SQRT(acc[i] + eps) / SQRT(sq[i] + eps) * gi;                  \
        acc[i] = acc[i] * rho + delta * delta * oneMinusRho;                          \
        p[i] = p[i] - delta * lr;                                                     \
    }

#define SGD_ARGS(T) int64_t a, int64_t b, T *restrict p, const T *restrict g, T lr, T wd, int32_t maximize
#define SGD_PASS a, b, p, g, lr, wd, maximize
#define MOMENTUM_ARGS(T) int64_t a, int64_t b, T *restrict p, const T *restrict g, T *restrict buf, T momentum, T dampening, T lr, T wd, \
                         int32_t nesterov, int32_t maximize, int32_t first
#define MOMENTUM_PASS a, b, p, g, buf, momentum, dampening, lr, wd, nesterov, maximize, first
#define ADADELTA_ARGS(T) int64_t a, int64_t b, T *restrict p, const T *restrict g, T *restrict sq, T *restrict acc, T rho, T eps, T lr, T wd
#define ADADELTA_PASS a, b, p, g, sq, acc, rho, eps, lr, wd

// NAME_T_body, then its builds for each level and the exported dispatcher nk_NAME_T.
#define NK_OPT_VARIANTS(NAME, ARGS, PASS) NK_LEVEL_VARIANTS(nk_##NAME, NAME##_body, (ARGS), (PASS))

#define NK_INLINE static inline __attribute__((always_inline))
NK_INLINE void sgd_f32_body(SGD_ARGS(float)) { SGD_BODY(float) }
NK_INLINE void sgd_f64_body(SGD_ARGS(double)) { SGD_BODY(double) }
NK_INLINE void sgd_momentum_f32_body(MOMENTUM_ARGS(float)) { MOMENTUM_BODY(float) }
NK_INLINE void sgd_momentum_f64_body(MOMENTUM_ARGS(double)) { MOMENTUM_BODY(double) }
NK_INLINE void adadelta_f32_body(ADADELTA_ARGS(float)) { ADADELTA_BODY(float, sqrtf) }
NK_INLINE void adadelta_f64_body(ADADELTA_ARGS(double)) { ADADELTA_BODY(double, sqrt) }

NK_OPT_VARIANTS(sgd_f32, SGD_ARGS(float), SGD_PASS)
NK_OPT_VARIANTS(sgd_f64, SGD_ARGS(double), SGD_PASS)
NK_OPT_VARIANTS(sgd_momentum_f32, MOMENTUM_ARGS(float), MOMENTUM_PASS)
NK_OPT_VARIANTS(sgd_momentum_f64, MOMENTUM_ARGS(double), MOMENTUM_PASS)
NK_OPT_VARIANTS(adadelta_f32, ADADELTA_ARGS(float), ADADELTA_PASS)
NK_OPT_VARIANTS(adadelta_f64, ADADELTA_ARGS(double), ADADELTA_PASS)
