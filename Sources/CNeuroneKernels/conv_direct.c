// Direct 2-D convolution, stride 1, for layers with short im2col columns (few input channels ×
// taps), where packing a GEMM costs more than the arithmetic. float32, NCHW, groups = 1.
//
// "Wide rows": the input is pre-padded to Hp×Wp, and each output plane is computed at width Wp
// (the last Wp − ow entries of each row are garbage and dropped), so every tap (i, j) is one
// contiguous multiply-add over L = (oh − 1)·Wp + ow elements starting at i·dh·Wp + j·dw:
//   wide[t] += w[o,c,i,j] · xpad[n,c][t + i·dh·Wp + j·dw],   out[oy, ox] = wide[oy·Wp + ox].
// The gradients use the same indexing with the output gradient widened to Wp (zeros in the
// garbage columns). dims = {N, C, Hp, Wp, O, kh, kw, dh, dw, oh, ow}.
#include "neurone_kernels.h"
#include "cpu_level.h"
#include <stdlib.h>
#include "nk_avx2.h"

#pragma STDC FP_CONTRACT ON

typedef struct { int64_t n, c, hp, wp, o, kh, kw, dh, dw, oh, ow; } wide_shape;

static wide_shape shape_of(const int64_t *d) {
    wide_shape s = {d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10]};
    return s;
}

// Forward, register-blocked: a work item is one sample and a group of up to 6 output channels.
// Strips of 16 wide positions keep 6 × 2 vectors of 8 accumulators in registers over all taps
// (per tap: 2 loads of the input, 6 broadcast weights, 12 multiply-adds), written to a wide
// buffer [ob][oh·Wp] and then compacted into y (dropping the garbage columns); positions past
// the last full strip take a plain loop. On AVX-512 the strips are 32 positions of 16-lane
// vectors and the last one masked (LeNet-5's conv1 at batch 64, C timer on Intel Xeon: 300 →
// 220 µs; the 8-lane strips left half of each 512-bit multiply-add unit idle).
typedef float v8f __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));
// load8/store8 and the blocks are static and always inlined, so no 32-byte vector crosses a call
// in the baseline (non-AVX) variant; clang nevertheless warns at each use there (-Wpsabi, 60
// warnings since the fused-activation epilogue joined nk_conv2d_direct_f32).
#pragma clang diagnostic ignored "-Wpsabi"

static inline __attribute__((always_inline)) v8f load8(const float *p) { v8f r; __builtin_memcpy(&r, p, 32); return r; }
static inline __attribute__((always_inline)) void store8(float *p, v8f v) { __builtin_memcpy(p, &v, 32); }

#define MAX_OB 6

// Balanced groups of at most MAX_OB output channels: group g of ng covers [O·g/ng, O·(g+1)/ng).
static int64_t group_count(int64_t o) { return (o + MAX_OB - 1) / MAX_OB; }

// One strip of 2·VW wide positions from t: OB × 2 accumulators of VW lanes over all taps.
#define DEFINE_FWD_STRIP(OB, V, VW)                                                                  \
    static inline __attribute__((always_inline)) void fwd_strip_##OB##_##VW(                       \
        const wide_shape *s, const float *xs, const float *w, const float *bias, int64_t o0,         \
        float *wide, int64_t stride, int64_t t, const int64_t kw) {                                  \
        const int64_t kk = s->kh * s->kw, taps = s->c * kk;                                          \
        V acc[OB][2];                                                                                \
        for (int q = 0; q < OB; q++) {                                                               \
            const float b = bias ? bias[o0 + q] : 0.0f;                                              \
            acc[q][0] = (V){0} + b;                                                                  \
            acc[q][1] = acc[q][0];                                                                   \
        }                                                                                            \
        for (int64_t c = 0; c < s->c; c++) {                                                         \
            const float *plane = xs + c * s->hp * s->wp + t;                                         \
            const float *wc = w + o0 * taps + c * kk;                                                \
            for (int64_t i = 0; i < s->kh; i++)                                                      \
                for (int64_t j = 0; j < kw; j++) {                                                   \
                    const float *src = plane + i * s->dh * s->wp + j * s->dw;                        \
                    V x0, x1;                                                                        \
                    __builtin_memcpy(&x0, src, sizeof(V));                                           \
                    __builtin_memcpy(&x1, src + VW, sizeof(V));                                      \
                    const float *wt = wc + i * kw + j;                                               \
                    for (int q = 0; q < OB; q++) {                                                   \
                        const float wv = wt[q * taps];                                               \
                        acc[q][0] += x0 * wv;                                                        \
                        acc[q][1] += x1 * wv;                                                        \
                    }                                                                                \
                }                                                                                    \
        }                                                                                            \
        for (int q = 0; q < OB; q++) {                                                               \
            __builtin_memcpy(wide + q * stride + t, &acc[q][0], sizeof(V));                          \
            __builtin_memcpy(wide + q * stride + t + VW, &acc[q][1], sizeof(V));                     \
        }                                                                                            \
    }

// The last n < 32 positions from t as one strip of two masked 16-lane vectors (AVX-512): lanes
// past n are neither read nor written. Not always_inline: a call from the non-AVX-512 variants
// (where WIDE is 0 and the call is dead) is allowed, inlining is not. (The whole strips through
// this function too, with full masks, were slower: LeNet-5's conv1 at batch 64 175 → 200 µs, mnist-
// cnn's 515 → 650 µs, C timer on Intel Xeon, flatten or not; so the two strips repeat the loop.)
#if defined(__x86_64__) || defined(__i386__)
#define DEFINE_FWD_TAIL(OB)                                                                          \
    NK_AVX512 static inline void fwd_tail_##OB(const wide_shape *s, const float *xs, const float *w, \
        const float *bias, int64_t o0, float *wide, int64_t stride, int64_t t, int64_t n, const int64_t kw) { \
        const int64_t kk = s->kh * s->kw, taps = s->c * kk;                                          \
        const __mmask16 m0 = nk_live_mask16(n), m1 = n > 16 ? nk_live_mask16(n - 16) : 0;           \
        __m512 acc[OB][2];                                                                           \
        for (int q = 0; q < OB; q++) acc[q][0] = acc[q][1] = _mm512_set1_ps(bias ? bias[o0 + q] : 0.0f); \
        for (int64_t c = 0; c < s->c; c++) {                                                         \
            const float *plane = xs + c * s->hp * s->wp + t;                                         \
            const float *wc = w + o0 * taps + c * kk;                                                \
            for (int64_t i = 0; i < s->kh; i++)                                                      \
                for (int64_t j = 0; j < kw; j++) {                                                   \
                    const float *src = plane + i * s->dh * s->wp + j * s->dw;                        \
                    const __m512 x0 = _mm512_maskz_loadu_ps(m0, src), x1 = _mm512_maskz_loadu_ps(m1, src + 16); \
                    const float *wt = wc + i * kw + j;                                               \
                    for (int q = 0; q < OB; q++) {                                                   \
                        const __m512 wv = _mm512_set1_ps(wt[q * taps]);                              \
                        acc[q][0] = _mm512_fmadd_ps(x0, wv, acc[q][0]);                              \
                        acc[q][1] = _mm512_fmadd_ps(x1, wv, acc[q][1]);                              \
                    }                                                                                \
                }                                                                                    \
        }                                                                                            \
        for (int q = 0; q < OB; q++) {                                                               \
            _mm512_mask_storeu_ps(wide + q * stride + t, m0, acc[q][0]);                             \
            _mm512_mask_storeu_ps(wide + q * stride + t + 16, m1, acc[q][1]);                        \
        }                                                                                            \
    }
#define FWD_TAIL(OB) if (WIDE && t < len) { fwd_tail_##OB(s, xs, w, bias, o0, wide, stride, t, len - t, kw); t = len; }
#else
#define DEFINE_FWD_TAIL(OB)
#define FWD_TAIL(OB)
#endif

// A block: strips of 32 positions and a masked last strip where WIDE (16-lane vectors, the
// AVX-512 variant); otherwise strips of 16 (8-lane vectors) and the rest by a plain loop.
#define DEFINE_FWD_BLOCK(OB)                                                                         \
    DEFINE_FWD_STRIP(OB, v8f, 8)                                                                     \
    DEFINE_FWD_STRIP(OB, v16f, 16)                                                                   \
    DEFINE_FWD_TAIL(OB)                                                                              \
    static inline __attribute__((always_inline)) void fwd_block_##OB(                              \
        const wide_shape *s, const float *xs, const float *w, const float *bias, int64_t o0,         \
        float *wide, int64_t stride, const int KWC, const int WIDE) {                                \
        const int64_t len = (s->oh - 1) * s->wp + s->ow, kk = s->kh * s->kw, taps = s->c * kk;       \
        const int64_t kw = KWC ? KWC : s->kw; /* a constant for the common widths: unrolled taps */ \
        int64_t t = 0;                                                                               \
        if (WIDE)                                                                                    \
            for (; t + 32 <= len; t += 32) fwd_strip_##OB##_16(s, xs, w, bias, o0, wide, stride, t, kw); \
        FWD_TAIL(OB)                                                                                 \
        for (; t + 16 <= len; t += 16) fwd_strip_##OB##_8(s, xs, w, bias, o0, wide, stride, t, kw);  \
        for (int q = 0; q < OB; q++) {                                                               \
            float *wq = wide + q * stride;                                                           \
            const float b = bias ? bias[o0 + q] : 0.0f;                                              \
            for (int64_t u = t; u < len; u++) wq[u] = b;                                             \
            for (int64_t c = 0; c < s->c; c++)                                                       \
                for (int64_t i = 0; i < s->kh; i++)                                                  \
                    for (int64_t j = 0; j < s->kw; j++) {                                            \
                        const float wv = w[(o0 + q) * taps + c * kk + i * s->kw + j];                \
                        const float *src = xs + c * s->hp * s->wp + i * s->dh * s->wp + j * s->dw;   \
                        for (int64_t u = t; u < len; u++) wq[u] += wv * src[u];                      \
                    }                                                                                \
        }                                                                                            \
    }

DEFINE_FWD_BLOCK(1)
DEFINE_FWD_BLOCK(2)
DEFINE_FWD_BLOCK(3)
DEFINE_FWD_BLOCK(4)
DEFINE_FWD_BLOCK(5)
DEFINE_FWD_BLOCK(6)

static inline __attribute__((always_inline)) void fwd_item(const wide_shape *s, const float *xpad, const float *w, const float *bias,
                                                           int64_t item, float *wide, float *y, const int WIDE) {
    const int64_t ng = group_count(s->o), n = item / ng, g = item % ng;
    const int64_t o0 = s->o * g / ng, ob = s->o * (g + 1) / ng - o0;
    const int64_t stride = s->oh * s->wp;
    const float *xs = xpad + n * s->c * s->hp * s->wp;
    /* kernel widths 3 and 5 as constants, so that each row of taps unrolls (the loop's own
       instructions otherwise weigh on the front end, as in linear.c) */
#define FWD_BLOCKS(KWC)                                                                   \
    switch (ob) {                                                                         \
    case 1: fwd_block_1(s, xs, w, bias, o0, wide, stride, KWC, WIDE); break;              \
    case 2: fwd_block_2(s, xs, w, bias, o0, wide, stride, KWC, WIDE); break;              \
    case 3: fwd_block_3(s, xs, w, bias, o0, wide, stride, KWC, WIDE); break;              \
    case 4: fwd_block_4(s, xs, w, bias, o0, wide, stride, KWC, WIDE); break;              \
    case 5: fwd_block_5(s, xs, w, bias, o0, wide, stride, KWC, WIDE); break;              \
    default: fwd_block_6(s, xs, w, bias, o0, wide, stride, KWC, WIDE); break;             \
    }
    if (s->kw == 3) { FWD_BLOCKS(3) } else if (s->kw == 5) { FWD_BLOCKS(5) } else { FWD_BLOCKS(0) }
#undef FWD_BLOCKS
    for (int64_t q = 0; q < ob; q++) {
        float *out = y + (n * s->o + o0 + q) * s->oh * s->ow;
        const float *wq = wide + q * stride;
        for (int64_t oy = 0; oy < s->oh; oy++)
            for (int64_t ox = 0; ox < s->ow; ox++) out[oy * s->ow + ox] = wq[oy * s->wp + ox];
    }
}

// Weight gradient, register-blocked: gw[o, c, i, j] = Σ_n Σ_t gwide[n, o][t] · xpad[n, c][t + i·dh·Wp + j·dw]
// (the garbage columns of gwide are zero). A block holds up to 4 output channels × 3 taps of one
// kernel row in 12 vector accumulators: per 8 positions, 4 loads of the gradient and 3 of the
// input feed 12 multiply-adds (the plain dot product needs 2 loads per multiply-add).
// A work item is one group of output channels (balanced groups of at most 4) and one input channel,
// over chunks of samples whose gradient and input planes fit in L2 (about 256 KB): every block of
// taps reads the chunk again, and over the whole batch (LeNet-5's conv1 at batch 256: 2.7 MB of
// gradient for a group) each of the 10 blocks streamed it from L3 (C timer, Intel Xeon: 2.7 ms).
// Each chunk's sums are added to gw (the first chunk's written).
#define BWW_OB 4
static int64_t bww_groups(int64_t o) { return (o + BWW_OB - 1) / BWW_OB; }

static inline __attribute__((always_inline)) float hsum8(v8f v) {
    float r = 0;
    for (int k = 0; k < 8; k++) r += v[k];
    return r;
}

#define DEFINE_BWW_BLOCK(OB, JB)                                                                      \
    static inline __attribute__((always_inline)) void bww_block_##OB##_##JB(                         \
        const wide_shape *s, const float *xpad, const float *gwide, int64_t o0, int64_t c, int64_t i,  \
        int64_t j0, float *gw, int64_t n0, int64_t n1, int add) {                                     \
        const int64_t len = (s->oh - 1) * s->wp + s->ow, plane = s->oh * s->wp, xplane = s->hp * s->wp;\
        v8f acc[OB][JB];                                                                              \
        float tail[OB][JB];                                                                           \
        for (int q = 0; q < OB; q++)                                                                  \
            for (int jj = 0; jj < JB; jj++) { acc[q][jj] = (v8f){0}; tail[q][jj] = 0; }               \
        for (int64_t n = n0; n < n1; n++) {                                                           \
            const float *g = gwide + (n * s->o + o0) * plane;                                         \
            const float *x = xpad + (n * s->c + c) * xplane + i * s->dh * s->wp + j0 * s->dw;          \
            int64_t t = 0;                                                                            \
            for (; t + 8 <= len; t += 8) {                                                            \
                v8f xv[JB];                                                                           \
                for (int jj = 0; jj < JB; jj++) xv[jj] = load8(x + jj * s->dw + t);                   \
                for (int q = 0; q < OB; q++) {                                                        \
                    const v8f gv = load8(g + q * plane + t);                                          \
                    for (int jj = 0; jj < JB; jj++) acc[q][jj] += gv * xv[jj];                        \
                }                                                                                     \
            }                                                                                         \
            for (; t < len; t++)                                                                      \
                for (int q = 0; q < OB; q++)                                                          \
                    for (int jj = 0; jj < JB; jj++) tail[q][jj] += g[q * plane + t] * x[jj * s->dw + t];\
        }                                                                                             \
        for (int q = 0; q < OB; q++)                                                                  \
            for (int jj = 0; jj < JB; jj++) {                                                         \
                float *dst = gw + (((o0 + q) * s->c + c) * s->kh + i) * s->kw + j0 + jj;              \
                const float sum = hsum8(acc[q][jj]) + tail[q][jj];                                    \
                *dst = add ? *dst + sum : sum;                                                        \
            }                                                                                         \
    }

DEFINE_BWW_BLOCK(1, 1) DEFINE_BWW_BLOCK(1, 2) DEFINE_BWW_BLOCK(1, 3)
DEFINE_BWW_BLOCK(2, 1) DEFINE_BWW_BLOCK(2, 2) DEFINE_BWW_BLOCK(2, 3)
DEFINE_BWW_BLOCK(3, 1) DEFINE_BWW_BLOCK(3, 2) DEFINE_BWW_BLOCK(3, 3)
DEFINE_BWW_BLOCK(4, 1) DEFINE_BWW_BLOCK(4, 2) DEFINE_BWW_BLOCK(4, 3)

static inline __attribute__((always_inline)) void bww_item(const wide_shape *s, const float *xpad, const float *gwide,
                                                           int64_t item, float *gw) {
    const int64_t ng = bww_groups(s->o), g = item % ng, c = item / ng;
    const int64_t o0 = s->o * g / ng, ob = s->o * (g + 1) / ng - o0;
    const int64_t perSample = (ob * s->oh + s->hp) * s->wp * (int64_t)sizeof(float), chunk = perSample < 262144 ? 262144 / perSample : 1;
    for (int64_t n0 = 0; n0 < s->n; n0 += chunk) {
        const int64_t n1 = s->n - n0 < chunk ? s->n : n0 + chunk;
        for (int64_t i = 0; i < s->kh; i++)
            for (int64_t j0 = 0; j0 < s->kw; j0 += 3) {
                const int64_t jb = s->kw - j0 < 3 ? s->kw - j0 : 3;
#define BWW_CASE(OB, JB) case (OB) * 4 + (JB): bww_block_##OB##_##JB(s, xpad, gwide, o0, c, i, j0, gw, n0, n1, n0 > 0); break;
                switch (ob * 4 + jb) {
                    BWW_CASE(1, 1) BWW_CASE(1, 2) BWW_CASE(1, 3)
                    BWW_CASE(2, 1) BWW_CASE(2, 2) BWW_CASE(2, 3)
                    BWW_CASE(3, 1) BWW_CASE(3, 2) BWW_CASE(3, 3)
                    BWW_CASE(4, 1) BWW_CASE(4, 2) BWW_CASE(4, 3)
                }
#undef BWW_CASE
            }
    }
}

static inline __attribute__((always_inline)) void bwd_input_plane(const wide_shape *s, const float *gwide, const float *w,
                                                                  int64_t n, int64_t c, float *gxpad) {
    const int64_t len = (s->oh - 1) * s->wp + s->ow;
    float *plane = gxpad + (n * s->c + c) * s->hp * s->wp;
    for (int64_t o = 0; o < s->o; o++) {
        const float *g = gwide + (n * s->o + o) * s->oh * s->wp;
        for (int64_t i = 0; i < s->kh; i++)
            for (int64_t j = 0; j < s->kw; j++) {
                const float wv = w[((o * s->c + c) * s->kh + i) * s->kw + j];
                float *dst = plane + i * s->dh * s->wp + j * s->dw;
                for (int64_t t = 0; t < len; t++) dst[t] += wv * g[t];
            }
    }
}

#if defined(__x86_64__) || defined(__i386__)
#define VARIANTS(NAME, ARGS, CALL)                                                                 \
    __attribute__((target("avx512f,avx512dq,avx2,fma"))) static void NAME##_avx512 ARGS { CALL; }  \
    __attribute__((target("avx2,fma"))) static void NAME##_avx2 ARGS { CALL; }                       \
    static void NAME##_base ARGS { CALL; }
#define PICK(NAME) (nk_cpu_level() >= 2 ? NAME##_avx512 : nk_cpu_level() == 1 ? NAME##_avx2 : NAME##_base)
#else
#define VARIANTS(NAME, ARGS, CALL) static void NAME##_base ARGS { CALL; }
#define PICK(NAME) NAME##_base
#endif

// The forward's AVX-512 variant takes strips of 16-lane vectors (twice the positions per tap for
// the same loads of weights); the others 8-lane ones.
#define FWD_ARGS (const wide_shape *s, const float *x, const float *w, const float *b, int64_t item, float *wide, float *y)
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f,avx512dq,avx2,fma"))) static void fwd_avx512 FWD_ARGS { fwd_item(s, x, w, b, item, wide, y, 1); }
__attribute__((target("avx2,fma"))) static void fwd_avx2 FWD_ARGS { fwd_item(s, x, w, b, item, wide, y, 0); }
#endif
static void fwd_base FWD_ARGS { fwd_item(s, x, w, b, item, wide, y, 0); }
#undef FWD_ARGS
VARIANTS(bww, (const wide_shape *s, const float *x, const float *g, int64_t item, float *gw), bww_item(s, x, g, item, gw))
VARIANTS(bwi, (const wide_shape *s, const float *g, const float *w, int64_t n, int64_t c, float *gx), bwd_input_plane(s, g, w, n, c, gx))

int64_t nk_conv2d_direct_items(const int64_t *dims) { return dims[0] * group_count(dims[4]); }

void nk_conv2d_direct_f32(const int64_t *dims, const float *xpad, const float *w, const float *bias, float *y,
                          int64_t item0, int64_t item1, int32_t act) {
    wide_shape s = shape_of(dims);
    float *wide = malloc((size_t)(MAX_OB * s.oh * s.wp) * sizeof(float));
    if (!wide) abort();
    void (*f)(const wide_shape *, const float *, const float *, const float *, int64_t, float *, float *) = PICK(fwd);
    const int64_t ng = group_count(s.o), plane = s.oh * s.ow;
    for (int64_t item = item0; item < item1; item++) {
        f(&s, xpad, w, bias, item, wide, y);
        if (act >= 0) {  // the item's planes, just written and still in cache
            const int64_t n = item / ng, g = item % ng, o0 = s.o * g / ng, o1 = s.o * (g + 1) / ng;
            nk_activation_f32(act, y + (n * s.o + o0) * plane, (o1 - o0) * plane);
        }
    }
    free(wide);
}

int64_t nk_conv2d_direct_bwd_weight_items(const int64_t *dims) { return bww_groups(dims[4]) * dims[1]; }

void nk_conv2d_direct_bwd_weight_f32(const int64_t *dims, const float *xpad, const float *gwide, float *gw, int64_t item0, int64_t item1) {
    wide_shape s = shape_of(dims);
    void (*f)(const wide_shape *, const float *, const float *, int64_t, float *) = PICK(bww);
    for (int64_t item = item0; item < item1; item++) f(&s, xpad, gwide, item, gw);
}

void nk_conv2d_direct_bwd_input_f32(const int64_t *dims, const float *gwide, const float *w, float *gxpad, int64_t plane0, int64_t plane1) {
    wide_shape s = shape_of(dims);
    void (*f)(const wide_shape *, const float *, const float *, int64_t, int64_t, float *) = PICK(bwi);
    for (int64_t p = plane0; p < plane1; p++) f(&s, gwide, w, p / s.c, p % s.c, gxpad);
}
