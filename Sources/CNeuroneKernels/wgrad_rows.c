// A weight gradient summed over many rows, both operands read where they lie (no packing):
//     Ct[n, m] (+)= Σ_k x[k, n] · g[k, m]        (Ct = dWᵀ, [N, M], row stride ldct)
// for g [K, M] (dL/dy of a product over K rows, row stride ldg) and x [K, N] (its input, row
// stride ldx), and, where db is not NULL, db[m] (+)= Σ_k g[k, m] (the bias gradient) in the same
// pass. A GEMM library packs g, all of it, first (OpenBLAS spent longer packing the LSTM
// classifier's 1792×512 g than multiplying it by 28 input features: 57 GFLOP/s in training);
// here each row of g is one vector load per 16 columns. The recurrent layers call it once per
// step and block of rows (K = the block's rows), summing dW_hh, dW_ih and db while the step's g
// is in cache (CPURecurrent.swift).
//
// Register tile: R values of n × two vectors of m (R ≤ 12 on AVX-512: 24 accumulators of 16; R ≤ 6
// on AVX2: 12 of 8): per row k, two loads of g[k, m..m+2·VL) and R broadcasts of x[k, n..n+R). The
// rows run in blocks of KB so that g's block (KB × M) stays in L2 while the blocks of n reuse it;
// Ct is read back per block (in place of a second pass that would transpose partial sums).
// Measured alone on Zen 4 (one thread): 109 GFLOP/s at AVX-512 for the LSTM classifier's dW_ih
// (K 1792, M 512, N 28) and dW_hh (1728, 512, 128) summed over all rows; 86 and 75 at AVX2,
// where OpenBLAS's Haswell kernels were faster after the steps, so linear() takes this on AVX-512
// CPUs only (LinearKernelSettings.weightGradientRows); the recurrent layers' step-by-step sums take
// it at AVX2 too (there g comes from cache: the LSTM classifier's one-thread step 8.8–9.1 →
// 8.5–9.0 ms under the AVX2 stand-in), and `neurone bench linear --weight-gradient` times the
// AVX2 build.
#include "neurone_kernels.h"
#include <string.h>
#include "cpu_level.h"
#include "nk_avx2.h"
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#define KB 128

// Columns [m0, m1) the AVX2 tiles leave (M's last columns, fewer than 4), with plain loops; also
// every column below AVX2, and Ct and db cleared where there are no rows.
static void wgrad_rows_portable(const float *g, int64_t ldg, const float *x, int64_t ldx, int64_t K, int64_t N, int64_t m0, int64_t m1,
                                float *ct, int64_t ldct, float *db, int accumulate) {
    if (m1 <= m0) return;
    for (int64_t n = 0; n < N; n++)
        if (!accumulate) memset(ct + n * ldct + m0, 0, (size_t)(m1 - m0) * sizeof(float));
    if (db && !accumulate) memset(db + m0, 0, (size_t)(m1 - m0) * sizeof(float));
    for (int64_t k = 0; k < K; k++) {
        const float *gr = g + k * ldg;
        for (int64_t n = 0; n < N; n++) {
            const float xv = x[k * ldx + n];
            float *c = ct + n * ldct;
            for (int64_t m = m0; m < m1; m++) c[m] += xv * gr[m];
        }
        if (db) for (int64_t m = m0; m < m1; m++) db[m] += gr[m];
    }
}

#if defined(__x86_64__) || defined(__i386__)
typedef float f32x8 __attribute__((vector_size(32)));
typedef float f32x16 __attribute__((vector_size(64)));

// One tile: R × NV accumulators (NV vectors of columns), rows [k0, k1); first: start from zeros
// instead of Ct; HASDB: also sum g's rows into db. R and HASDB are constants at each call. A
// scalar times a vector splats with one broadcast load (as in gemm.c's micro-kernel; with
// intrinsics clang rotated the accumulators through the broadcast registers and spilled at AVX2).
#define DEFINE_TILE(NAME, ATTR, VT, VL, NV)                                                                         \
    ATTR static inline __attribute__((always_inline)) void NAME(                                                    \
            const int R, const int HASDB, const float *g, int64_t ldg, const float *x, int64_t ldx, int64_t k0,     \
            int64_t k1, int64_t m, float *ct, int64_t ldct, int64_t n0, int first, float *db) {                       \
        VT acc[16][NV], bacc[NV];                                                                                   \
        _Pragma("clang loop unroll(full)")                                                                          \
        for (int v = 0; v < NV; v++) bacc[v] = (VT){0};                                                             \
        _Pragma("clang loop unroll(full)")                                                                          \
        for (int i = 0; i < R; i++)                                                                                 \
            _Pragma("clang loop unroll(full)")                                                                      \
            for (int v = 0; v < NV; v++) {                                                                          \
                if (first) acc[i][v] = (VT){0};                                                                     \
                else memcpy(&acc[i][v], ct + (n0 + i) * ldct + m + v * VL, sizeof(VT));                             \
            }                                                                                                       \
        for (int64_t k = k0; k < k1; k++) {                                                                         \
            const float *xr = x + k * ldx + n0;                                                                     \
            VT gv[NV];                                                                                              \
            _Pragma("clang loop unroll(full)")                                                                      \
            for (int v = 0; v < NV; v++) {                                                                          \
                memcpy(&gv[v], g + k * ldg + m + v * VL, sizeof(VT));                                               \
                if (HASDB) bacc[v] += gv[v];                                                                        \
            }                                                                                                       \
            _Pragma("clang loop unroll(full)")                                                                      \
            for (int i = 0; i < R; i++) {                                                                           \
                const float xv = xr[i];                                                                             \
                _Pragma("clang loop unroll(full)")                                                                  \
                for (int v = 0; v < NV; v++) acc[i][v] += xv * gv[v];                                               \
            }                                                                                                       \
        }                                                                                                           \
        _Pragma("clang loop unroll(full)")                                                                          \
        for (int i = 0; i < R; i++)                                                                                 \
            _Pragma("clang loop unroll(full)")                                                                      \
            for (int v = 0; v < NV; v++) memcpy(ct + (n0 + i) * ldct + m + v * VL, &acc[i][v], sizeof(VT));         \
        if (HASDB) {                                                                                                \
            _Pragma("clang loop unroll(full)")                                                                      \
            for (int v = 0; v < NV; v++) {                                                                          \
                VT old = {0};                                                                                       \
                if (!first) memcpy(&old, db + m + v * VL, sizeof(VT));                                              \
                old += bacc[v];                                                                                     \
                memcpy(db + m + v * VL, &old, sizeof(VT));                                                          \
            }                                                                                                       \
        }                                                                                                           \
    }

#define ATTR512 __attribute__((target("avx512f,avx512dq,avx2,fma")))
#define ATTR256 __attribute__((target("avx2,fma")))
DEFINE_TILE(tile512, ATTR512, f32x16, 16, 2)
DEFINE_TILE(tile256, ATTR256, f32x8, 8, 2)
// half and quarter strips (one vector of columns, then one of half the width) for what the
// whole strips leave
typedef float f32x4 __attribute__((vector_size(16)));
DEFINE_TILE(half512, ATTR512, f32x16, 16, 1)
DEFINE_TILE(quarter512, ATTR512, f32x8, 8, 1)
DEFINE_TILE(half256, ATTR256, f32x8, 8, 1)
DEFINE_TILE(quarter256, ATTR256, f32x4, 4, 1)

// AVX-512: the last columns [m, m1) (fewer than 8) as masked vectors over all K rows, rows of n
// in groups of 8 — the masked-off lanes lie within g's and Ct's rows or past their last element.
ATTR512 static void rest512(const float *g, int64_t ldg, const float *x, int64_t ldx, int64_t K, int64_t N, int64_t m, int64_t m1,
                            float *ct, int64_t ldct, float *db, int accumulate) {
    if (m1 <= m) return;
    const __mmask16 live = (__mmask16)((1u << (m1 - m)) - 1);
    for (int64_t n0 = 0; n0 < N; n0 += 8) {
        const int64_t r = N - n0 < 8 ? N - n0 : 8;
        __m512 acc[8], bacc = _mm512_setzero_ps();
        _Pragma("clang loop unroll(full)")
        for (int i = 0; i < 8; i++)
            acc[i] = accumulate && i < r ? _mm512_maskz_loadu_ps(live, ct + (n0 + i) * ldct + m) : _mm512_setzero_ps();
        for (int64_t k = 0; k < K; k++) {
            const __m512 gv = _mm512_maskz_loadu_ps(live, g + k * ldg + m);
            const float *xr = x + k * ldx + n0;
            if (db && n0 == 0) bacc = _mm512_add_ps(bacc, gv);
            _Pragma("clang loop unroll(full)")
            for (int i = 0; i < 8; i++)
                if (i < r) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(xr[i]), gv, acc[i]);
        }
        _Pragma("clang loop unroll(full)")
        for (int i = 0; i < 8; i++)
            if (i < r) _mm512_mask_storeu_ps(ct + (n0 + i) * ldct + m, live, acc[i]);
        if (db && n0 == 0) {
            const __m512 old = accumulate ? _mm512_maskz_loadu_ps(live, db + m) : _mm512_setzero_ps();
            _mm512_mask_storeu_ps(db + m, live, _mm512_add_ps(old, bacc));
        }
    }
}

#define WG_CASE(TILE, R)                                                                                            \
    case R:                                                                                                         \
        if (bias) TILE(R, 1, g, ldg, x, ldx, k0, k1, m, ct, ldct, n0, first, bias);                                 \
        else TILE(R, 0, g, ldg, x, ldx, k0, k1, m, ct, ldct, n0, first, 0);                                         \
        break;
#define WG_CASES512(TILE) WG_CASE(TILE, 12) WG_CASE(TILE, 8) WG_CASE(TILE, 6) WG_CASE(TILE, 4) WG_CASE(TILE, 3) WG_CASE(TILE, 2) WG_CASE(TILE, 1)
#define WG_CASES256(TILE) WG_CASE(TILE, 6) WG_CASE(TILE, 4) WG_CASE(TILE, 3) WG_CASE(TILE, 2) WG_CASE(TILE, 1)

// One tile of r rows of n (TILE and r's case from CASES) at column MC of g.
#define WG_RUN(CASES, TILE, MC)                                                                                     \
    {                                                                                                               \
        const int64_t m = (MC);                                                                                     \
        switch (r) {                                                                                                \
        CASES(TILE)                                                                                                 \
        default: break;                                                                                             \
        }                                                                                                           \
    }

// Whole strips of VL columns in [m0, m1) by the tiles, rows in blocks of KB (g's block stays in L2
// while the blocks of n reuse it), n in blocks of RMAX then of the listed sizes; then a half strip
// (VL/2 columns) and a quarter strip where they fit, and the last columns (fewer than VL/4) by
// REST.
#define DEFINE_DRIVER(NAME, TILE, HALF, QUARTER, REST, CASES, ATTR, VL, RMAX, ...)                                   \
    ATTR static void NAME(const float *g, int64_t ldg, const float *x, int64_t ldx, int64_t K, int64_t N, int64_t m0,   \
                          int64_t m1, float *ct, int64_t ldct, float *db, int accumulate) {                          \
        static const int sizes[] = {__VA_ARGS__};                                                                   \
        /* no rows: the plain loops clear Ct and db (or leave them, accumulating) */                              \
        if (K == 0) { wgrad_rows_portable(g, ldg, x, ldx, K, N, m0, m1, ct, ldct, db, accumulate); return; }       \
        const int64_t mWhole = m0 + (m1 - m0) / VL * VL;                                                            \
        const int64_t mHalf = m1 - mWhole >= VL / 2 ? mWhole + VL / 2 : mWhole;                                     \
        const int64_t mEnd = m1 - mHalf >= VL / 4 ? mHalf + VL / 4 : mHalf;                                         \
        for (int64_t k0 = 0; k0 < K; k0 += KB) {                                                                    \
            const int64_t k1 = K - k0 < KB ? K : k0 + KB;                                                           \
            const int first = k0 == 0 && !accumulate;                                                               \
            for (int64_t n0 = 0; n0 < N;) {                                                                         \
                int r = RMAX;                                                                                       \
                if (N - n0 < RMAX)                                                                                  \
                    for (int s = 0; s < (int)(sizeof sizes / sizeof sizes[0]); s++)                                 \
                        if (sizes[s] <= N - n0) { r = sizes[s]; break; }                                            \
                float *bias = n0 == 0 ? db : 0;                                                                     \
                for (int64_t mc = m0; mc < mWhole; mc += VL) WG_RUN(CASES, TILE, mc)                                \
                if (mHalf > mWhole) WG_RUN(CASES, HALF, mWhole)                                                     \
                if (mEnd > mHalf) WG_RUN(CASES, QUARTER, mHalf)                                                     \
                n0 += r;                                                                                            \
            }                                                                                                       \
        }                                                                                                           \
        REST(g, ldg, x, ldx, K, N, mEnd, m1, ct, ldct, db, accumulate);                                             \
    }

DEFINE_DRIVER(wgrad_rows_avx512, tile512, half512, quarter512, rest512, WG_CASES512, ATTR512, 32, 12, 8, 6, 4, 3, 2, 1)
DEFINE_DRIVER(wgrad_rows_avx2, tile256, half256, quarter256, wgrad_rows_portable, WG_CASES256, ATTR256, 16, 6, 4, 3, 2, 1)
#endif

void nk_wgrad_rows_f32(const float *g, int64_t ldg, const float *x, int64_t ldx, int64_t K, int64_t M, int64_t N, int64_t m0,
                       int64_t m1, float *ct, int64_t ldct, float *db, int accumulate) {
    if (m1 <= m0) return;
#if defined(__x86_64__) || defined(__i386__)
    const int level = nk_cpu_level();
    if (level == 2) { wgrad_rows_avx512(g, ldg, x, ldx, K, N, m0, m1, ct, ldct, db, accumulate); return; }
    if (level == 1) { wgrad_rows_avx2(g, ldg, x, ldx, K, N, m0, m1, ct, ldct, db, accumulate); return; }
#endif
    (void)M;
    wgrad_rows_portable(g, ldg, x, ldx, K, N, m0, m1, ct, ldct, db, accumulate);
}

// dst [cols, rows] (row stride ldd) = the transpose of src [rows, cols] (row stride lds), in blocks
// of 16×16 so that both the rows read and the rows written stay within a few cache lines; with
// AVX2, whole 8×8 blocks go through a register transpose (8 loads, 8 stores of 8 values instead
// of 64 single moves: it had taken 7 % of `neurone bench linear --weight-gradient`'s rows path,
// which transposes dWᵀ into place), the edges element by element.
static inline __attribute__((always_inline)) void transpose_edges(const float *src, int64_t lds, int64_t i0, int64_t i1, int64_t j0,
                                                                  int64_t j1, float *dst, int64_t ldd) {
    for (int64_t j = j0; j < j1; j++)
        for (int64_t i = i0; i < i1; i++) dst[j * ldd + i] = src[i * lds + j];
}
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) static void transpose_avx2(const float *src, int64_t lds, int64_t rows, int64_t cols, float *dst,
                                                              int64_t ldd) {
    const int64_t rows8 = rows / 8 * 8, cols8 = cols / 8 * 8;
    for (int64_t i0 = 0; i0 < rows8; i0 += 16)
        for (int64_t j0 = 0; j0 < cols8; j0 += 16)
            for (int64_t i = i0; i < i0 + 16 && i < rows8; i += 8)
                for (int64_t j = j0; j < j0 + 16 && j < cols8; j += 8) {
                    __m256 r[8];
                    for (int a = 0; a < 8; a++) r[a] = _mm256_loadu_ps(src + (i + a) * lds + j);
                    nk_transpose8x8_store(r, dst + j * ldd + i, ldd);
                }
    transpose_edges(src, lds, 0, rows8, cols8, cols, dst, ldd);   /* the last columns */
    transpose_edges(src, lds, rows8, rows, 0, cols, dst, ldd);    /* the last rows */
}
#endif

void nk_transpose_f32(const float *src, int64_t lds, int64_t rows, int64_t cols, float *dst, int64_t ldd) {
#if defined(__x86_64__) || defined(__i386__)
    if (nk_cpu_level() >= 1) { transpose_avx2(src, lds, rows, cols, dst, ldd); return; }
#endif
    for (int64_t i0 = 0; i0 < rows; i0 += 16)
        for (int64_t j0 = 0; j0 < cols; j0 += 16)
            transpose_edges(src, lds, i0, rows - i0 < 16 ? rows : i0 + 16, j0, cols - j0 < 16 ? cols : j0 + 16, dst, ldd);
}
