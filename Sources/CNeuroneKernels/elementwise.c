// Vectorised float32 transcendentals: y[i] = f(x[i]).
// exp uses the Cephes expf reduction (x = n ln2 + r, |r| <= ln2/2) and a degree-6 polynomial,
// written without calls or branches so the loop vectorises; 2^n is built in the exponent bits.
// Each map is compiled for AVX-512, AVX2+FMA and the baseline, chosen at run time.
#include "neurone_kernels.h"
#include <math.h>
#include <string.h>
#include "cpu_level.h"
#include "nk_activation.h"

#pragma STDC FP_CONTRACT ON

#if defined(__x86_64__) || defined(__i386__)
#define NK_X86 1
#endif

#include "nk_sigmoid_tanh.h"
#include "nk_avx2.h"

// BODY512: the AVX-512 variant's body (NAME##_body: the scalar function, vectorised by clang).
#define DEFINE_MAP(NAME, FN, BODY512)                                                         \
    static inline __attribute__((always_inline)) void NAME##_body(const float *x, float *y, int64_t n) { \
        /* in place as its own loop: with x == y the vector loop's overlap check fails and */  \
        /* the two-pointer loop would run scalar */                                           \
        if (x == y) { for (int64_t i = 0; i < n; i++) y[i] = FN(y[i]); return; }              \
        for (int64_t i = 0; i < n; i++) y[i] = FN(x[i]);                                      \
    }                                                                                         \
    NK_AVX512_VARIANT(NAME, BODY512)                                                          \
    static void NAME##_base(const float *x, float *y, int64_t n) { NAME##_body(x, y, n); }    \
    void nk_##NAME##_f32(const float *x, float *y, int64_t n) { NK_DISPATCH(NAME); NAME##_base(x, y, n); }

#ifdef NK_X86
#define NK_AVX512_VARIANT(NAME, BODY512)                                                      \
    __attribute__((target("avx512f,avx512dq,avx2,fma"))) static void NAME##_avx512(const float *x, float *y, int64_t n) { \
        BODY512(x, y, n);                                                                     \
    }                                                                                         \
    __attribute__((target("avx2,fma"))) static void NAME##_avx2(const float *x, float *y, int64_t n) { \
        NAME##_body(x, y, n);                                                                 \
    }
#define NK_DISPATCH(NAME)                                                                     \
    do {                                                                                      \
        int level = nk_cpu_level();                                                           \
        if (level == 2) { NAME##_avx512(x, y, n); return; }                                   \
        if (level == 1) { NAME##_avx2(x, y, n); return; }                                     \
    } while (0)
#else
#define NK_AVX512_VARIANT(NAME, BODY512)
#define NK_DISPATCH(NAME) do { } while (0)
#endif

#ifdef NK_X86
// the sigmoid map at AVX-512: nk_sigmoid16 (the same values as nk_sigmoidf), the tail masked
__attribute__((target("avx512f,avx512dq,avx2,fma"))) static inline __attribute__((always_inline)) void sigmoid_body512(
        const float *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, nk_sigmoid16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 live = nk_live_mask16(n - i);
        _mm512_mask_storeu_ps(y + i, live, nk_sigmoid16(_mm512_maskz_loadu_ps(live, x + i)));
    }
}
#endif

DEFINE_MAP(exp, nk_expf, exp_body)
DEFINE_MAP(sigmoid, nk_sigmoidf, sigmoid_body512)
DEFINE_MAP(tanh, nk_tanhf, tanh_body)

// ---- activations in place ------------------------------------------------------------------
// y[i] = f(y[i]) with the op codes of the gradients below (0 relu, 1 tanh, 2 sigmoid): the
// epilogue of a layer that fuses its activation into its output pass. relu keeps NaN and −0
// (y < 0 ? 0 : y), as the standalone op; tanh and sigmoid are the maps above.
void nk_activation_f32(int32_t op, float *y, int64_t n) {
    switch (op) {
    case NK_ACTIVATION_RELU: for (int64_t i = 0; i < n; i++) { float v = y[i]; y[i] = NK_RELU(v); } break;
    case NK_ACTIVATION_TANH: nk_tanh_f32(y, y, n); break;
    default: nk_sigmoid_f32(y, y, n); break;
    }
}

// ---- activation gradients ----------------------------------------------------------------
// out = g · f′ in one pass; `s` is the saved input x (relu: 0 where x <= 0, so that a NaN input
// passes g, as PyTorch's threshold_backward) or output y (tanh: 1 − y², sigmoid: y(1 − y)).
// The float32 forms below are compiled for AVX-512, AVX2 and the baseline and chosen at run time,
// with contraction off so that every level gives the baseline's bits (g·(1 − y²) not fused into
// an FMA). Xeon (Emerald Rapids), one thread: with g and s in L2 (mnist-cnn's conv2, one sample,
// 64 × 576, relu, with the row sums) 14 → 5.5 µs; over 64 samples read from L3, 1.1 → 0.8 ms. In
// the training steps g and s mostly come from L3 and the share of these kernels hardly moved:
// mnist-cnn 6.8 → 6.6 %, lenet5 9.4 → 7.4 %, mlp at batch 256 1.85 → 1.72 % (`perf`).
#define ACT_GRAD_LOOPS(T)                                                                           \
    switch (op) {                                                                                   \
    /* g is loaded unconditionally so that the select vectorises (no data-dependent branch) */     \
    case NK_ACTIVATION_RELU: for (int64_t i = 0; i < n; i++) { T gv = g[i]; out[i] = NK_RELU_GRAD(gv, s[i]); } break; \
    case NK_ACTIVATION_TANH: for (int64_t i = 0; i < n; i++) out[i] = NK_TANH_GRAD(g[i], s[i]); break; \
    default: for (int64_t i = 0; i < n; i++) out[i] = NK_SIGMOID_GRAD(g[i], s[i]); break;              \
    }
static inline __attribute__((always_inline)) void act_grad_body(int32_t op, const float *g, const float *s, float *out, int64_t n) {
#pragma clang fp contract(off)
    ACT_GRAD_LOOPS(float)
}

// Eight running sums over n values, added in a fixed order (the same at every level: each lane's
// sums stay in order when the eight are one vector).
static inline __attribute__((always_inline)) float row_total_body(const float *src, int64_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += src[i + j];
    float total = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++) total += src[i];
    return total;
}

// g and s hold chunk blocks of rows × len values ([chunk, rows, len], a group of samples of a
// convolution's output); out gets rows × (chunk·len) ([rows, chunk, len]): out = g · f′(s) as
// above (op ≥ 0) and, when rowSum is not NULL, rowSum[r] += the sum of row r of out (of g's
// pieces of row r when op < 0, which then writes nothing). A convolution's backward takes its
// fused activation's gradient, the reorder to its products' layout and its bias gradient this
// way, a group of samples at a time in cache (one pass where a copy of g and of s to the new
// layout and a pass over both took three). The sum of a written row is taken over the whole
// row, as with chunk = 1.
static inline __attribute__((always_inline)) void act_grad_rows_body(int32_t op, const float *g, const float *s, float *out,
                                                                       int64_t rows, int64_t chunk, int64_t len, float *rowSum) {
    for (int64_t r = 0; r < rows; r++) {
        float *dst = out + r * chunk * len;
        if (op >= 0) {
            for (int64_t c = 0; c < chunk; c++)
                act_grad_body(op, g + (c * rows + r) * len, s + (c * rows + r) * len, dst + c * len, len);
            if (rowSum) rowSum[r] += row_total_body(dst, chunk * len);
        } else if (rowSum) {
            float total = 0;
            for (int64_t c = 0; c < chunk; c++) total += row_total_body(g + (c * rows + r) * len, len);
            rowSum[r] += total;
        }
    }
}

// Planes of rows × len values (g, and s when op ≥ 0) to planes of rows × wide values (out, each
// row's last wide − len values set to 0): out = g · f′(s) as above, or g itself when op < 0; and,
// when planeSum is not NULL, planeSum[p] = the sum of plane p's values written (row sums added in
// order). A direct convolution's backward takes its fused activation's gradient, the widening to
// its padded rows and its bias gradient's sums this way, planes p0 ..< p1 per call (one pass
// where a full-size gradient, a zeroed wide copy and a sum over it took three).
static inline __attribute__((always_inline)) void act_grad_widen_body(int32_t op, const float *g, const float *s, float *out,
                                                                        int64_t rows, int64_t len, int64_t wide, float *planeSum,
                                                                        int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; p++) {
        float total = 0;
        for (int64_t r = 0; r < rows; r++) {
            const int64_t src = (p * rows + r) * len;
            float *dst = out + (p * rows + r) * wide;
            if (op >= 0) act_grad_body(op, g + src, s + src, dst, len);
            else memcpy(dst, g + src, (size_t)len * sizeof(float));
            for (int64_t i = len; i < wide; i++) dst[i] = 0;
            if (planeSum) total += row_total_body(dst, len);
        }
        if (planeSum) planeSum[p] = total;
    }
}

NK_LEVEL_VARIANTS(nk_activation_grad_f32, act_grad_body, (int32_t op, const float *g, const float *s, float *out, int64_t n),
                  (op, g, s, out, n))
NK_LEVEL_VARIANTS(nk_activation_grad_rows_f32, act_grad_rows_body,
                  (int32_t op, const float *g, const float *s, float *out, int64_t rows, int64_t chunk, int64_t len, float *rowSum),
                  (op, g, s, out, rows, chunk, len, rowSum))
NK_LEVEL_VARIANTS(nk_activation_grad_widen_f32, act_grad_widen_body,
                  (int32_t op, const float *g, const float *s, float *out, int64_t rows, int64_t len, int64_t wide, float *planeSum,
                   int64_t p0, int64_t p1),
                  (op, g, s, out, rows, len, wide, planeSum, p0, p1))

void nk_activation_grad_f64(int32_t op, const double *g, const double *s, double *out, int64_t n) { ACT_GRAD_LOOPS(double) }

// ---- strided copy ------------------------------------------------------------------------
// Odometer over all dims but the last; the last dim is a tight loop per element size.
#define COPY_INNER(T)                                                                         \
    do {                                                                                      \
        const T *s = (const T *)src + soff;                                                   \
        T *d = (T *)dst + doff;                                                               \
        if (ss == 1 && ds == 1) memcpy(d, s, (size_t)inner * sizeof(T));                      \
        else for (int64_t i = 0; i < inner; i++) d[i * ds] = s[i * ss];                       \
    } while (0)

void nk_copy_strided(int64_t elemSize, int64_t ndim, const int64_t *shape,
                     const void *src, const int64_t *srcStrides,
                     void *dst, const int64_t *dstStrides) {
    if (ndim == 0) { memcpy(dst, src, (size_t)elemSize); return; }
    for (int64_t d = 0; d < ndim; d++) if (shape[d] == 0) return;
    int64_t inner = shape[ndim - 1];
    int64_t ss = srcStrides[ndim - 1], ds = dstStrides[ndim - 1];
    int64_t idx[64] = {0};
    int64_t soff = 0, doff = 0;
    for (;;) {
        switch (elemSize) {
        case 1: COPY_INNER(uint8_t); break;
        case 2: COPY_INNER(uint16_t); break;
        case 4: COPY_INNER(uint32_t); break;
        default: COPY_INNER(uint64_t); break;
        }
        int64_t d = ndim - 2;
        for (; d >= 0; d--) {
            idx[d]++;
            soff += srcStrides[d];
            doff += dstStrides[d];
            if (idx[d] < shape[d]) break;
            soff -= srcStrides[d] * shape[d];
            doff -= dstStrides[d] * shape[d];
            idx[d] = 0;
        }
        if (d < 0) return;
    }
}

// ---- row fill ----------------------------------------------------------------------------
void nk_fill_rows(void *dst, const void *row, int64_t rows, int64_t rowBytes) {
    const char *s = (const char *)row;
    char *d = (char *)dst;
    if (rowBytes < 32) {
        for (int64_t r = 0; r < rows; r++) memcpy(d + r * rowBytes, s, (size_t)rowBytes);
        return;
    }
    // 32-byte moves (inlined, no call per row); the last one overlaps the one before it
    for (int64_t r = 0; r < rows; r++, d += rowBytes) {
        int64_t i = 0;
        for (; i + 32 <= rowBytes; i += 32) memcpy(d + i, s + i, 32);
        if (i < rowBytes) memcpy(d + rowBytes - 32, s + rowBytes - 32, 32);
    }
}
