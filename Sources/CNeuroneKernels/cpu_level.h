// Which vector instruction set the kernels use: 2 = AVX-512, 1 = AVX2+FMA, 0 = baseline.
// Detected once from the CPU; NEURONE_KERNEL=generic|avx2|avx512 lowers it (never raises it
// above what the CPU supports), so tests can exercise every variant on one machine.
#ifndef NEURONE_CPU_LEVEL_H
#define NEURONE_CPU_LEVEL_H
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline int nk_cpu_level(void) {
    static int level = -1;
    if (level >= 0) return level;
    int l = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")) l = 2;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) l = 1;
#endif
    const char *req = getenv("NEURONE_KERNEL");
    if (req) {
        int want = strcmp(req, "generic") == 0 ? 0 : strcmp(req, "avx2") == 0 ? 1 : 2;
        if (want < l) l = want;
    }
    level = l;  // benign race: every thread computes the same value
    return l;
}

// 1 on an Intel CPU: where a kernel's best choice was measured to differ between Intel and AMD
// cores (the comment at the use says which way and on which CPUs).
static inline int nk_cpu_is_intel(void) {
    static int intel = -1;
    if (intel >= 0) return intel;
    int v = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    v = __builtin_cpu_is("intel") ? 1 : 0;
#endif
    intel = v;  // benign race: every thread computes the same value
    return v;
}

// NAME##_avx512, NAME##_avx2 and NAME##_base, each calling BODY ARGS (an always_inline function,
// so each build vectorises it at its own width), and the exported NAME calling the one
// nk_cpu_level() picks; PARAMS and ARGS parenthesised: NK_LEVEL_VARIANTS(nk_f, f_body,
// (const float *x, int64_t n), (x, n)). Off x86 only NAME, calling BODY.
#if defined(__x86_64__) || defined(__i386__)
#define NK_LEVEL_VARIANTS(NAME, BODY, PARAMS, ARGS)                                                  \
    __attribute__((target("avx512f,avx512dq,avx2,fma"))) static void NAME##_avx512 PARAMS { BODY ARGS; } \
    __attribute__((target("avx2,fma"))) static void NAME##_avx2 PARAMS { BODY ARGS; }               \
    static void NAME##_base PARAMS { BODY ARGS; }                                                    \
    void NAME PARAMS {                                                                               \
        const int level = nk_cpu_level();                                                            \
        if (level == 2) NAME##_avx512 ARGS;                                                          \
        else if (level == 1) NAME##_avx2 ARGS;                                                       \
        else NAME##_base ARGS;                                                                       \
    }
#else
#define NK_LEVEL_VARIANTS(NAME, BODY, PARAMS, ARGS) void NAME PARAMS { BODY ARGS; }
#endif

// One core's L2 in bytes (1 MiB where the system does not say): kernels size the blocks they
// read again and again to a fraction of it.
static inline size_t nk_l2_bytes(void) {
    static size_t bytes = 0;
    if (bytes) return bytes;
    long b = 0;
#ifdef _SC_LEVEL2_CACHE_SIZE
    b = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
    bytes = b >= 65536 ? (size_t)b : (size_t)1 << 20;  // benign race: every thread computes the same value
    return bytes;
}
#endif
