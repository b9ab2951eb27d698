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
#include <immintrin.h>
// The lanes of 16 outputs of a row from ow on with n ≤ 16 of them left: the outputs (m), and the
// two input rows' 2n values as two 16-lane halves (lo, hi) — the AVX-512 kernels' masked row ends.
static inline void pool_row_masks(int64_t n, __mmask16 *m, __mmask16 *lo, __mmask16 *hi) {
    *m = (__mmask16)((1u << n) - 1u);
    *lo = 2 * n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (2 * n)) - 1u);
    *hi = 2 * n > 16 ? (__mmask16)((1u << (2 * n - 16)) - 1u) : 0;
}
// AVX-512, with indices: clang left MAXPOOL_BODY scalar (its int64 indices and stride-2 loads),
// ~10 cycles an output — 3 % of mnist-cnn's training step. Here 16 outputs of a row at a time:
// the two input rows' 32 values are split into the windows' four corners (even and odd columns
// by vpermt2ps), the corners compared in MAXPOOL_BODY's order with its rule (strictly greater, or
// NaN over a number: the first maximum wins, NaN wins) on masks, the winning corner's offset
// (0, 1, W, W + 1) carried in 32-bit lanes and widened to the flat int64 index. A row's last
// outputs take masked loads and stores; no lane reads past the row's 2·outW values.
__attribute__((target("avx512f,avx512dq,avx2,fma"))) static void maxpool2x2_avx512(MAXPOOL_ARGS) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512i twice = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), one = _mm512_set1_epi32(1);
    const __m512i down = _mm512_set1_epi32((int32_t)W), diag = _mm512_set1_epi32((int32_t)W + 1);
    for (int64_t p = 0; p < planes; p++) {
        const float *plane = x + p * H * W;
        for (int64_t oh = 0; oh < outH; oh++) {
            const float *r0 = plane + 2 * oh * W, *r1 = r0 + W;
            float *y = out + (p * outH + oh) * outW;
            int64_t *ix = idx + (p * outH + oh) * outW;
            const int64_t top = 2 * oh * W;
            for (int64_t ow = 0; ow < outW; ow += 16) {
                const int64_t n = outW - ow < 16 ? outW - ow : 16;
                __mmask16 m, lo, hi;
                pool_row_masks(n, &m, &lo, &hi);
                const __m512 z = _mm512_setzero_ps();
                const __m512 u0 = _mm512_maskz_loadu_ps(lo, r0 + 2 * ow), u1 = hi ? _mm512_maskz_loadu_ps(hi, r0 + 2 * ow + 16) : z;
                const __m512 v0 = _mm512_maskz_loadu_ps(lo, r1 + 2 * ow), v1 = hi ? _mm512_maskz_loadu_ps(hi, r1 + 2 * ow + 16) : z;
                __m512 best = _mm512_permutex2var_ps(u0, even, u1);
                __m512i off = _mm512_setzero_si512();
                const __m512 corner[3] = {_mm512_permutex2var_ps(u0, odd, u1), _mm512_permutex2var_ps(v0, even, v1),
                                          _mm512_permutex2var_ps(v0, odd, v1)};
                const __m512i at[3] = {one, down, diag};
                for (int q = 0; q < 3; q++) {
                    const __m512 c = corner[q];
                    const __mmask16 t = _mm512_cmp_ps_mask(c, best, _CMP_GT_OQ)
                        | (_mm512_cmp_ps_mask(c, c, _CMP_UNORD_Q) & _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q));
                    best = _mm512_mask_mov_ps(best, t, c);
                    off = _mm512_mask_mov_epi32(off, t, at[q]);
                }
                _mm512_mask_storeu_ps(y + ow, m, best);
                const __m512i base = _mm512_add_epi64(_mm512_set1_epi64(top + 2 * ow), twice);
                const __m512i i0 = _mm512_add_epi64(base, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(off)));
                const __m512i i1 = _mm512_add_epi64(_mm512_add_epi64(base, _mm512_set1_epi64(16)),
                                                    _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(off, 1)));
                _mm512_mask_storeu_epi64(ix + ow, (__mmask8)(m & 0xFF), i0);
                if (n > 8) _mm512_mask_storeu_epi64(ix + ow + 8, (__mmask8)(m >> 8), i1);
            }
        }
    }
}
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

// The adjoint of nk_maxpool2x2_f32 with its indices: each window's input at the index its output
// recorded gets g + 0 (the + 0 makes a −0 read +0, as the clear-then-add loop it replaces does), the
// window's three other inputs and inputs outside every window (an odd last row or column) 0; each
// plane written once, row pair by row pair, with no clearing pass and no scattered stores. The
// index must be one of the window's four positions (every index that kernel writes is).
// What no window covers (an odd last column of a row pair; an odd last row of a plane): 0.
static inline void pool_bwd_row_tail(float *r0, float *r1, int64_t outW, int64_t W) {
    for (int64_t xx = 2 * outW; xx < W; xx++) r0[xx] = r1[xx] = 0.0f;
}
static inline void pool_bwd_plane_tail(float *plane, int64_t outH, int64_t H, int64_t W) {
    for (int64_t xx = 2 * outH * W; xx < H * W; xx++) plane[xx] = 0.0f;
}
#define MAXPOOL_BWD_BODY                                                                               \
    for (int64_t p = 0; p < planes; p++) {                                                             \
        float *plane = dx + p * H * W;                                                                 \
        for (int64_t oh = 0; oh < outH; oh++) {                                                        \
            float *r0 = plane + 2 * oh * W, *r1 = r0 + W;                                              \
            const float *gr = g + (p * outH + oh) * outW;                                              \
            const int64_t *ir = idx + (p * outH + oh) * outW, top = 2 * oh * W;                        \
            for (int64_t ow = 0; ow < outW; ow++) {                                                    \
                const int64_t d = ir[ow] - (top + 2 * ow);                                             \
                const float v = gr[ow] + 0.0f;                                                         \
                r0[2 * ow] = d == 0 ? v : 0.0f; r0[2 * ow + 1] = d == 1 ? v : 0.0f;                    \
                r1[2 * ow] = d == W ? v : 0.0f; r1[2 * ow + 1] = d == W + 1 ? v : 0.0f;                \
            }                                                                                          \
            pool_bwd_row_tail(r0, r1, outW, W);                                                        \
        }                                                                                              \
        pool_bwd_plane_tail(plane, outH, H, W);                                                        \
    }
#define MAXPOOL_BWD_ARGS const float *g, const int64_t *idx, int64_t planes, int64_t H, int64_t W, int64_t outH, int64_t outW, float *dx
#if defined(__x86_64__) || defined(__i386__)
// AVX-512: 16 outputs of a row at a time, as maxpool2x2_avx512 reads them. Each output's offset in
// its window (index − the window's first position: 0, 1, W or W + 1) narrowed to 32-bit lanes and
// compared with the four; the gradient masked per corner, even and odd columns interleaved by
// vpermt2ps into the two rows' 32 values; a row's last outputs take masked loads and stores.
__attribute__((target("avx512f,avx512dq,avx2,fma"))) static void maxpool2x2_bwd_avx512(MAXPOOL_BWD_ARGS) {
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512i twice = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), one = _mm512_set1_epi32(1);
    const __m512i down = _mm512_set1_epi32((int32_t)W), diag = _mm512_set1_epi32((int32_t)W + 1);
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t p = 0; p < planes; p++) {
        float *plane = dx + p * H * W;
        for (int64_t oh = 0; oh < outH; oh++) {
            float *r0 = plane + 2 * oh * W, *r1 = r0 + W;
            const float *gr = g + (p * outH + oh) * outW;
            const int64_t *ir = idx + (p * outH + oh) * outW, top = 2 * oh * W;
            for (int64_t ow = 0; ow < outW; ow += 16) {
                const int64_t n = outW - ow < 16 ? outW - ow : 16;
                __mmask16 m, m0, m1;
                pool_row_masks(n, &m, &m0, &m1);
                const __m512i base = _mm512_add_epi64(_mm512_set1_epi64(top + 2 * ow), twice);
                const __m256i d0 = _mm512_cvtepi64_epi32(_mm512_sub_epi64(_mm512_maskz_loadu_epi64((__mmask8)(m & 0xFF), ir + ow), base));
                const __m256i d1 = _mm512_cvtepi64_epi32(_mm512_sub_epi64(_mm512_maskz_loadu_epi64((__mmask8)(m >> 8), ir + ow + 8),
                                                                          _mm512_add_epi64(base, _mm512_set1_epi64(16))));
                const __m512i d = _mm512_inserti64x4(_mm512_castsi256_si512(d0), d1, 1);
                const __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, gr + ow), zero);
                const __m512 a = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(d, _mm512_setzero_si512()), v);
                const __m512 b = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(d, one), v);
                const __m512 c = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(d, down), v);
                const __m512 e = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(d, diag), v);
                _mm512_mask_storeu_ps(r0 + 2 * ow, m0, _mm512_permutex2var_ps(a, lo, b));
                _mm512_mask_storeu_ps(r1 + 2 * ow, m0, _mm512_permutex2var_ps(c, lo, e));
                if (m1) {
                    _mm512_mask_storeu_ps(r0 + 2 * ow + 16, m1, _mm512_permutex2var_ps(a, hi, b));
                    _mm512_mask_storeu_ps(r1 + 2 * ow + 16, m1, _mm512_permutex2var_ps(c, hi, e));
                }
            }
            pool_bwd_row_tail(r0, r1, outW, W);
        }
        pool_bwd_plane_tail(plane, outH, H, W);
    }
}
__attribute__((target("avx2,fma"))) static void maxpool2x2_bwd_avx2(MAXPOOL_BWD_ARGS) { MAXPOOL_BWD_BODY }
#endif
void nk_maxpool2x2_backward_f32(MAXPOOL_BWD_ARGS) {
#if defined(__x86_64__) || defined(__i386__)
    int level = nk_cpu_level();
    if (level == 2) { maxpool2x2_bwd_avx512(g, idx, planes, H, W, outH, outW, dx); return; }
    if (level == 1) { maxpool2x2_bwd_avx2(g, idx, planes, H, W, outH, outW, dx); return; }
#endif
    MAXPOOL_BWD_BODY
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

// Its adjoint: each input of a window gets g·inv (+ 0, so that a −0 share reads +0 as in the
// Swift loop it replaces, which cleared the plane and added), inputs outside every window (an odd
// last row or column) 0; each plane written once, row by row, with no clearing pass.
#define AVGPOOL_BWD_BODY                                                                               \
    for (int64_t p = 0; p < planes; p++) {                                                             \
        float *plane = dx + p * H * W;                                                                 \
        for (int64_t oh = 0; oh < outH; oh++) {                                                        \
            float *r0 = plane + 2 * oh * W, *r1 = r0 + W;                                              \
            const float *gr = g + (p * outH + oh) * outW;                                              \
            for (int64_t ow = 0; ow < outW; ow++) {                                                    \
                const float v = gr[ow] * inv + 0.0f;                                                   \
                r0[2 * ow] = v; r0[2 * ow + 1] = v;                                                    \
            }                                                                                          \
            for (int64_t xx = 2 * outW; xx < W; xx++) r0[xx] = 0.0f;                                   \
            for (int64_t xx = 0; xx < W; xx++) r1[xx] = r0[xx];                                        \
        }                                                                                              \
        for (int64_t xx = 2 * outH * W; xx < H * W; xx++) plane[xx] = 0.0f;                            \
    }
#define AVGPOOL_BWD_ARGS const float *g, int64_t planes, int64_t H, int64_t W, int64_t outH, int64_t outW, float inv, float *dx
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f,avx512dq,avx2,fma"))) static void avgpool2x2_bwd_avx512(AVGPOOL_BWD_ARGS) { AVGPOOL_BWD_BODY }
__attribute__((target("avx2,fma"))) static void avgpool2x2_bwd_avx2(AVGPOOL_BWD_ARGS) { AVGPOOL_BWD_BODY }
#endif
void nk_avgpool2x2_backward_f32(AVGPOOL_BWD_ARGS) {
#if defined(__x86_64__) || defined(__i386__)
    int level = nk_cpu_level();
    if (level == 2) { avgpool2x2_bwd_avx512(g, planes, H, W, outH, outW, inv, dx); return; }
    if (level == 1) { avgpool2x2_bwd_avx2(g, planes, H, W, outH, outW, inv, dx); return; }
#endif
    AVGPOOL_BWD_BODY
}
