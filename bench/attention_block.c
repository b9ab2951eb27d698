// Times the float32 attention kernels of one (sample, head) block (attention.c) on their own:
// 256 blocks of Q, K, V [L or S, D] as heads of [L, 4·D] rows (the layout multi-head attention
// reads in place), best of 15 passes, µs per block and GFLOP/s (Q·Kᵀ and P·V; the backward counts
// twice that). NEURONE_KERNEL=generic|avx2|avx512 caps the level, as for neurone.
//
//   cd Sources/CNeuroneKernels && clang -O2 -I include -o /tmp/attention_block \
//       ../../bench/attention_block.c attention.c platform.c -lm
//   NEURONE_KERNEL=avx2 /tmp/attention_block L S D [1: forward and backward]
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "neurone_kernels.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// n floats with a distinct offset (in floats) from a page boundary, so that the arrays' rows do
// not all share their addresses modulo 4 KB (which would make loads wait on unrelated stores)
static float *array(size_t n, size_t offset) { return (float *)malloc(sizeof(float) * (n + 1024)) + offset; }

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s L S D [backward: 0|1]\n", argv[0]); return 2; }
    const int64_t L = atoll(argv[1]), S = atoll(argv[2]), D = atoll(argv[3]);
    const int bwd = argc > 4 && atoi(argv[4]);
    if (L < 1 || S < 1 || D < 1 || L > 4096 || S > 4096 || D > 1024) { fprintf(stderr, "L, S, D out of range\n"); return 2; }
    const int64_t E = 4 * D, blocks = 256;
    float *q = array(L * E * blocks, 0), *k = array(S * E * blocks, 208), *v = array(S * E * blocks, 416);
    float *o = array(L * E * blocks, 624), *p = array(L * S * blocks, 832), *g = array(L * E * blocks, 40);
    float *gq = array(L * E * blocks, 248), *gk = array(S * E * blocks, 456), *gv = array(S * E * blocks, 664);
    const int64_t sp = (S + 15) / 16 * 16;
    float *work = array((D + 2 * L + 8) * sp + L * S + 192, 0);
    uint32_t x = 1;
    for (int64_t i = 0; i < L * E * blocks; i++) { x = x * 1664525u + 1013904223u; q[i] = (x >> 8) * 0x1p-24f - 0.5f; g[i] = 0.3f * q[i]; }
    for (int64_t i = 0; i < S * E * blocks; i++) { x = x * 1664525u + 1013904223u; k[i] = (x >> 8) * 0x1p-24f - 0.5f; v[i] = 0.5f - k[i]; }
    double best = 1e30;
    for (int r = 0; r < 15; r++) {
        const double t0 = now();
        for (int64_t b = 0; b < blocks; b++) {
            // head b % 4 of sample b / 4
            const int64_t qo = (b / 4) * L * E + (b % 4) * D, ko = (b / 4) * S * E + (b % 4) * D;
            nk_attention_fwd_f32(L, S, D, 0.25f, q + qo, E, k + ko, E, v + ko, E, NULL, NULL, p + b * L * S, o + qo, E, work);
            if (bwd)
                nk_attention_bwd_f32(L, S, D, 0.25f, q + qo, E, k + ko, E, v + ko, E, p + b * L * S, NULL, g + qo, E,
                                     gq + qo, E, gk + ko, E, gv + ko, E, work);
        }
        const double t = now() - t0;
        if (t < best) best = t;
    }
    const double flops = (bwd ? 3.0 : 1.0) * 4.0 * L * S * D * blocks;
    double sum = 0;
    for (int64_t i = 0; i < L * E * blocks / 4; i++) sum += o[i] + (bwd ? gq[i] : 0);
    printf("L %lld S %lld D %lld %s: %.3f us per block, %.1f GFLOP/s (checksum %.6f)\n", (long long)L, (long long)S,
           (long long)D, bwd ? "forward+backward" : "forward", best / blocks * 1e6, flops / best / 1e9, sum);
    return 0;
}
