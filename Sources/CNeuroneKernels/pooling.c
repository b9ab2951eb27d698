// Pooling kernels that branchy Swift loops run slowly (see docs/PERFORMANCE.md, session 3).
#include "neurone_kernels.h"
#include "cpu_level.h"

// 2×2 stride-2 max pooling of `planes` planes [H, W] → [outH, outW], float32, with the flat index
// (y·W + x) of each maximum: the first maximum wins, NaN wins. Written with selects so that the
// data-dependent choice costs no mispredicted branches and the loop over a row vectorises.
#define MAXPOOL_BODY MAXPOOL_LOOP(ix[ow] = at)
/* without indices (NULL idx: nothing needs the backward), the same values */
#define MAXPOOL_VALUES_BODY MAXPOOL_LOOP((void)at)
#define MAXPOOL_LOOP(STORE_INDEX)                                                                      \
    for (int64_t p = 0; p < planes; p++) {                                                             \
        const float *plane = x + p * H * W;                                                            \
        for (int64_t oh = 0; oh < outH; oh++) {                                                        \
            const float *r0 = plane + 2 * oh * W, *r1 = r0 + W;                                        \
            float *y = out + (p * outH + oh) * outW;                                                   \
            int64_t *ix = idx ? idx + (p * outH + oh) * outW : NULL, top = 2 * oh * W;                 \
            (void)ix;                                                                                  \
            for (int64_t ow = 0; ow < outW; ow++) {                                                    \
                float best = r0[2 * ow], b = r0[2 * ow + 1], d0 = r1[2 * ow], d1 = r1[2 * ow + 1];     \
                int64_t at = top + 2 * ow;                                                             \
                int t = (b > best) | ((b != b) & (best == best));                                      \
                best = t ? b : best; at = t ? top + 2 * ow + 1 : at;                                   \
                t = (d0 > best) | ((d0 != d0) & (best == best));                                       \
                best = t ? d0 : best; at = t ? top + W + 2 * ow : at;                                  \
                t = (d1 > best) | ((d1 != d1) & (best == best));                                       \
                best = t ? d1 : best; at = t ? top + W + 2 * ow + 1 : at;                              \
                y[ow] = best;                                                                          \
                STORE_INDEX;                                                                           \
            }                                                                                          \
        }                                                                                              \
    }
#define MAXPOOL_ARGS const float *x, int64_t planes, int64_t H, int64_t W, int64_t outH, int64_t outW, float *out, int64_t *idx
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f,avx512dq,avx2,fma"))) static void maxpool2x2_avx512(MAXPOOL_ARGS) { MAXPOOL_BODY }
__attribute__((target("avx2,fma"))) static void maxpool2x2_avx2(MAXPOOL_ARGS) { MAXPOOL_BODY }
__attribute__((target("avx512f,avx512dq,avx2,fma"))) static void maxpool2x2_values_avx512(MAXPOOL_ARGS) { MAXPOOL_VALUES_BODY }
__attribute__((target("avx2,fma"))) static void maxpool2x2_values_avx2(MAXPOOL_ARGS) { MAXPOOL_VALUES_BODY }
#endif
static void maxpool2x2_base(MAXPOOL_ARGS) { MAXPOOL_BODY }
static void maxpool2x2_values_base(MAXPOOL_ARGS) { MAXPOOL_VALUES_BODY }
void nk_maxpool2x2_f32(MAXPOOL_ARGS) {
#if defined(__x86_64__) || defined(__i386__)
    int level = nk_cpu_level();
    if (level == 2) { (idx ? maxpool2x2_avx512 : maxpool2x2_values_avx512)(x, planes, H, W, outH, outW, out, idx); return; }
    if (level == 1) { (idx ? maxpool2x2_avx2 : maxpool2x2_values_avx2)(x, planes, H, W, outH, outW, out, idx); return; }
#endif
    (idx ? maxpool2x2_base : maxpool2x2_values_base)(x, planes, H, W, outH, outW, out, idx);
}

// 2×2 stride-2 average pooling of `planes` planes [H, W] → [outH, outW], float32, every window
// inside the input: ((a + b) + (c + d))·inv, the order of the Swift loop it replaces, so the
// results are the same bit for bit; a plain loop over each output row that vectorises.
#define AVGPOOL_BODY                                                                                   \
    for (int64_t p = 0; p < planes; p++) {                                                             \
        const float *plane = x + p * H * W;                                                            \
        for (int64_t oh = 0; oh < outH; oh++) {                                                        \
            const float *r0 = plane + 2 * oh * W, *r1 = r0 + W;                                        \
            float *y = out + (p * outH + oh) * outW;                                                   \
            for (int64_t ow = 0; ow < outW; ow++)                                                      \
                y[ow] = ((r0[2 * ow] + r0[2 * ow + 1]) + (r1[2 * ow] + r1[2 * ow + 1])) * inv;         \
        }                                                                                              \
    }
#define AVGPOOL_ARGS const float *x, int64_t planes, int64_t H, int64_t W, int64_t outH, int64_t outW, float inv, float *out
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f,avx512dq,avx2,fma"))) static void avgpool2x2_avx512(AVGPOOL_ARGS) { AVGPOOL_BODY }
__attribute__((target("avx2,fma"))) static void avgpool2x2_avx2(AVGPOOL_ARGS) { AVGPOOL_BODY }
#endif
void nk_avgpool2x2_f32(AVGPOOL_ARGS) {
#if defined(__x86_64__) || defined(__i386__)
    int level = nk_cpu_level();
    if (level == 2) { avgpool2x2_avx512(x, planes, H, W, outH, outW, inv, out); return; }
    if (level == 1) { avgpool2x2_avx2(x, planes, H, W, outH, outW, inv, out); return; }
#endif
    AVGPOOL_BODY
}
