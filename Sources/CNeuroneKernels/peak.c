// The host's float32 multiply-add peak, measured: 12 independent chains of vector FMAs held in
// registers (more than the FMA latency × units of any x86 core, so the units never wait), for
// each instruction-set level. `neurone bench peak` reports it; PERFORMANCE.md sets the kernels'
// GFLOP/s against it.
#include "neurone_kernels.h"
#include "cpu_level.h"

#pragma STDC FP_CONTRACT ON

typedef float f32x4 __attribute__((vector_size(16)));
typedef float f32x8 __attribute__((vector_size(32)));
typedef float f32x16 __attribute__((vector_size(64)));

#define PEAK_BODY(VT, LANES)                                                            \
    VT acc[12];                                                                         \
    const VT x = (VT){0} + 0.9999999f, y = (VT){0} + 1e-7f;                             \
    for (int i = 0; i < 12; i++) acc[i] = (VT){0} + (float)(i + 1) * 1e-3f;            \
    for (int64_t it = 0; it < iterations; it++) {                                       \
        _Pragma("clang loop unroll(full)")                                              \
        for (int i = 0; i < 12; i++) acc[i] = acc[i] * x + y;                           \
    }                                                                                   \
    float s = 0;                                                                        \
    for (int i = 0; i < 12; i++)                                                        \
        for (int l = 0; l < LANES; l++) s += acc[i][l];                                 \
    return s;

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f,avx512dq,avx2,fma"))) static float peak_avx512(int64_t iterations) { PEAK_BODY(f32x16, 16) }
__attribute__((target("avx2,fma"))) static float peak_avx2(int64_t iterations) { PEAK_BODY(f32x8, 8) }
#endif
static float peak_base(int64_t iterations) { PEAK_BODY(f32x4, 4) }

int32_t nk_fma_peak_lanes(int32_t level) {
#if defined(__x86_64__) || defined(__i386__)
    if (level >= 2 && nk_cpu_level() >= 2) return 16;
    if (level >= 1 && nk_cpu_level() >= 1) return 8;
#endif
    return 4;
}

float nk_fma_peak_run(int32_t level, int64_t iterations) {
#if defined(__x86_64__) || defined(__i386__)
    if (level >= 2 && nk_cpu_level() >= 2) return peak_avx512(iterations);
    if (level >= 1 && nk_cpu_level() >= 1) return peak_avx2(iterations);
#endif
    return peak_base(iterations);
}
