// A fully connected layer's forward pass for float32 on AVX2, y = x·Wᵀ + b (x [M, K] at row
// stride ldx, W [N, K] contiguous, y [M, N] at row stride ldy), for the reductions of small
// networks, where a general GEMM spends a good part of its time packing both operands per call
// and reading C back (Neurone uses it for K ≤ 512 with the AVX2 tiles and K ≤ 9216 with the
// AVX-512 ones, where it measured faster than OpenBLAS with its bias pass; Tensor.linearKernels). Here W
// is packed once per call into panels of 16 output features (or once per forward pass by the
// caller), x is read in place, and each 6×16 tile of y starts from the bias in registers and is
// stored once (no bias pass, no read of y). Tiles of 6 rows × 16 columns: 12 accumulators, 2 loads of W and 6
// broadcasts of x per 12 multiply-adds (the AVX-512 build below: 12 rows × 32 columns). The AVX2 kernel runs on x86 CPUs that have it
// (nk_linear_packed_available); elsewhere the same functions run plain loops, correct but slow,
// so callers there use the GEMM. The same file has the layer's weight gradient (below), and
// exports the kernel as a general product with a per-row bias (nk_gemm_packed_f32), which the
// convolution's forward, input gradient and weight gradient use.
#include "neurone_kernels.h"
#include <string.h>
#include "cpu_level.h"
#include "nk_avx2.h"
#include "nk_activation.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

// pk[(jp·K + p)·16 + jj] = w[(16·jp + jj)·ldw + p], 0 for 16·jp + jj ≥ N: 8×8 register transposes
// where 8 rows and 8 columns are whole, element by element at the edges.
__attribute__((target("avx2,fma"))) static void linear_pack_avx2(const float *w, int64_t ldw, int64_t N, int64_t K, float *pk) {
    const int64_t panels = (N + 15) / 16;
    for (int64_t jp = 0; jp < panels; jp++) {
        float *dst = pk + jp * K * 16;
        for (int64_t h = 0; h < 2; h++) {
            const int64_t j0 = 16 * jp + 8 * h;
            int64_t p = 0;
            if (j0 + 8 <= N) {
                for (; p + 8 <= K; p += 8) {
                    __m256 r[8];
                    for (int a = 0; a < 8; a++) r[a] = _mm256_loadu_ps(w + (j0 + a) * ldw + p);
                    nk_transpose8x8_store(r, dst + p * 16 + 8 * h, 16);
                }
            }
            for (; p < K; p++)
                for (int64_t a = 0; a < 8; a++) dst[p * 16 + 8 * h + a] = j0 + a < N ? w[(j0 + a) * ldw + p] : 0.0f;
        }
    }
}

// One tile: MR rows (a compile-time constant in each instantiation) × the 16 columns of panel pb.
// live0/live1: the columns of the two halves that exist (all of them except in the last panel).
// rb: NULL, or a bias per row (these MR rows' values) that replaces b0 and b1.
// relu: y < 0 ? 0 : y on the registers before they are stored (NaN and −0 kept, as nk_activation_f32).
// add: what y holds is added after the products (y += x·W), prefetched before them.
NK_AVX2_INLINE void lin_tile(const int MR, const float *x, int64_t ldx, int64_t K, const float *pb, __m256 b0, __m256 b1,
                          const float *rb, float *y, int64_t ldy, int full, __m256i live0, __m256i live1, int relu, int add) {
    __m256 c0[6], c1[6];
    const float *xr[6]; /* one pointer per row: each broadcast is a base + index address */
    for (int i = 0; i < MR; i++) {
        if (add) {
            _mm_prefetch((const char *)(y + i * ldy), _MM_HINT_T0);
            c0[i] = c1[i] = _mm256_setzero_ps();
        } else {
            c0[i] = rb ? _mm256_broadcast_ss(rb + i) : b0;
            c1[i] = rb ? c0[i] : b1;
        }
        xr[i] = x + i * ldx;
    }
    /* Unrolled by 4: the loop's own instructions (address arithmetic, counter) otherwise make
       28 per step of 12 FMAs, and on this project's shared cores the front end, not the FMA
       units, set the pace (1.11–1.16× at the attention model's shapes, measured in C). */
#pragma clang loop unroll_count(4)
    for (int64_t p = 0; p < K; p++) {
        const __m256 w0 = _mm256_loadu_ps(pb + p * 16), w1 = _mm256_loadu_ps(pb + p * 16 + 8);
        for (int i = 0; i < MR; i++) {
            const __m256 a = _mm256_broadcast_ss(xr[i] + p);
            c0[i] = _mm256_fmadd_ps(a, w0, c0[i]);
            c1[i] = _mm256_fmadd_ps(a, w1, c1[i]);
        }
    }
    if (add) {
        for (int i = 0; i < MR; i++) {
            const float *r = y + i * ldy;
            c0[i] = _mm256_add_ps(full ? _mm256_loadu_ps(r) : _mm256_maskload_ps(r, live0), c0[i]);
            c1[i] = _mm256_add_ps(full ? _mm256_loadu_ps(r + 8) : _mm256_maskload_ps(r + 8, live1), c1[i]);
        }
    }
    if (relu) {
        for (int i = 0; i < MR; i++) {
            c0[i] = nk_relu_m256(c0[i]);
            c1[i] = nk_relu_m256(c1[i]);
        }
    }
    for (int i = 0; i < MR; i++) {
        float *r = y + i * ldy;
        if (full) { _mm256_storeu_ps(r, c0[i]); _mm256_storeu_ps(r + 8, c1[i]); }
        else { _mm256_maskstore_ps(r, live0, c0[i]); _mm256_maskstore_ps(r + 8, live1, c1[i]); }
    }
}

#define LIN_TILE_CASE(MR) case MR: lin_tile(MR, xr, ldx, K, pb, b0, b1, rowBias ? rowBias + i0 : NULL, yr, ldy, full, live0, live1, relu, add); break;

__attribute__((target("avx2,fma"))) static void linear_packed_avx2(const float *x, int64_t ldx, int64_t m0, int64_t m1, int64_t K,
                                                              const float *pk, const float *bias, const float *rowBias, int64_t N,
                                                              float *y, int64_t ldy, int relu, int add) {
    const int64_t panels = (N + 15) / 16;
    for (int64_t jp = 0; jp < panels; jp++) {
        const int64_t j0 = 16 * jp, left = N - j0;
        const int full = left >= 16;
        __m256i live0, live1;
        nk_live_lanes16(left, &live0, &live1);
        __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
        if (bias) { b0 = _mm256_maskload_ps(bias + j0, live0); b1 = _mm256_maskload_ps(bias + j0 + 8, live1); }
        const float *pb = pk + jp * K * 16;
        for (int64_t i0 = m0; i0 < m1; i0 += 6) {
            const float *xr = x + i0 * ldx;
            float *yr = y + i0 * ldy + j0;
            switch (m1 - i0 >= 6 ? 6 : (int)(m1 - i0)) {
                LIN_TILE_CASE(6) LIN_TILE_CASE(5) LIN_TILE_CASE(4) LIN_TILE_CASE(3) LIN_TILE_CASE(2) LIN_TILE_CASE(1)
            }
        }
    }
}

// The convolution's weight gradient with its columns read from x in place (nk_gemm_segments_f32
// below): a tile of MR rows, each at its own offset in x (off), × the 16 columns of panel pb,
// over segs runs of segLen depths, the rows' pointers advancing segStride between runs and the
// panel segLen·16 values; c (+)= the sums (add: what c holds is added, columns past N masked).
NK_AVX2_INLINE void seg_tile(const int MR, const float *x, const int64_t *off, int64_t segs, int64_t segLen, int64_t segStride,
                             const float *pb, float *c, int64_t ldc, int full, __m256i live0, __m256i live1, int add) {
    __m256 c0[6], c1[6];
    const float *xr[6];
    for (int i = 0; i < MR; i++) {
        c0[i] = c1[i] = _mm256_setzero_ps();
        xr[i] = x + off[i];
    }
    for (int64_t s = 0; s < segs; s++, pb += segLen * 16) {
#pragma clang loop unroll_count(4)
        for (int64_t p = 0; p < segLen; p++) {
            const __m256 w0 = _mm256_loadu_ps(pb + p * 16), w1 = _mm256_loadu_ps(pb + p * 16 + 8);
            for (int i = 0; i < MR; i++) {
                const __m256 a = _mm256_broadcast_ss(xr[i] + p);
                c0[i] = _mm256_fmadd_ps(a, w0, c0[i]);
                c1[i] = _mm256_fmadd_ps(a, w1, c1[i]);
            }
        }
        for (int i = 0; i < MR; i++) xr[i] += segStride;
    }
    for (int i = 0; i < MR; i++) {
        float *r = c + i * ldc;
        if (add) {
            c0[i] = _mm256_add_ps(full ? _mm256_loadu_ps(r) : _mm256_maskload_ps(r, live0), c0[i]);
            c1[i] = _mm256_add_ps(full ? _mm256_loadu_ps(r + 8) : _mm256_maskload_ps(r + 8, live1), c1[i]);
        }
        if (full) { _mm256_storeu_ps(r, c0[i]); _mm256_storeu_ps(r + 8, c1[i]); }
        else { _mm256_maskstore_ps(r, live0, c0[i]); _mm256_maskstore_ps(r + 8, live1, c1[i]); }
    }
}

#define SEG_TILE_CASE(MR) case MR: seg_tile(MR, x, off + i0, segs, segLen, segStride, pb, c + i0 * ldc + j0, ldc, full, live0, live1, add); break;
__attribute__((target("avx2,fma"))) static void gemm_segments_avx2(const float *x, const int64_t *off, int64_t m0, int64_t m1, int64_t segs,
                                                              int64_t segLen, int64_t segStride, const float *pk, int64_t N, float *c,
                                                              int64_t ldc, int add) {
    const int64_t K = segs * segLen;
    for (int64_t jp = 0; jp < (N + 15) / 16; jp++) {
        const int64_t j0 = 16 * jp;
        const int full = N - j0 >= 16;
        __m256i live0, live1;
        nk_live_lanes16(N - j0, &live0, &live1);
        const float *pb = pk + jp * K * 16;
        for (int64_t i0 = m0; i0 < m1; i0 += 6)
            switch (m1 - i0 >= 6 ? 6 : (int)(m1 - i0)) {
                SEG_TILE_CASE(6) SEG_TILE_CASE(5) SEG_TILE_CASE(4) SEG_TILE_CASE(3) SEG_TILE_CASE(2) SEG_TILE_CASE(1)
            }
    }
}
#endif

// The weight gradient dW[M, N] (+)= Σ_k g[k, i]·x[k, j] of y = x·Wᵀ + b (g = dL/dy [K, M], x
// [K, N], K = the rows of the batch): an outer-product GEMM whose operands both hold the
// reduction in their rows, so packing them is copying runs of 6 and 16 values. GEMM libraries
// clear dW in a separate pass when beta = 0 (OpenBLAS's sgemm_beta was 8 % of mlp training) and
// read it back per block; here each 6×16 tile of dW is summed in registers and stored once.
// The panels of x go in chunks that fit L2 (wg_panel_chunk below) and K in blocks of at most 256;
// for each, the chunk's panels are packed first (a 16-column panel, 16 KB at K = 256, fits L1; the
// mlp's 784 columns at K = 64 are one chunk), then each 6-row tile of dW is filled across them,
// its stores running along the rows (1.2–1.3×
// OpenBLAS at K = 64 for 1000×784 and 120×400; a panel-major order with row groups held in L2
// measured 1.04× and 0.9×). Neurone takes it within Tensor.linearKernels' limits (at least 32768
// weights, at most 256 rows, at most 4 MB of packed x), where `neurone bench linear
// --weight-gradient` measured it ahead of OpenBLAS; beyond them it lost (0.7× for the attention
// embedding's 7168-row reduction, 0.5–0.9× for 9216 columns at 256 rows, measured before the
// chunks; with them 116 GFLOP/s against OpenBLAS's 128 at 128×9216 over 256 rows on a Xeon, so the
// limit stays). The packed panels' buffer still holds every panel (the limit bounds it too).
#define WG_KC 256

// Panels of x packed and multiplied at a time: as many as fill a quarter of the L2 at kc rows.
// Every 6-row tile of dW runs across them, so they must stay in L2: all panels of the mnist-cnn's
// dense layer (9216 columns, K = 64: 2.4 MB) were read from L3 by each of its 22 tiles. C timer,
// Xeon (Emerald Rapids, 2 MiB L2), GFLOP/s before → in chunks: 128×9216 over 64 rows 59–73 → 108–111,
// over 256 rows 63 → 116. The mlp's 784 columns are one chunk, as before. The chunks' function
// is not inlined into its caller: inlined, the AVX2 build ran the mlp's 1000×784 over 64 rows
// 5 % slower (85 → 80), the same loops.
static inline int64_t wg_panel_chunk(int64_t kc) {
    const int64_t chunk = (int64_t)(nk_l2_bytes() / 4 / ((size_t)kc * 16 * sizeof(float)));
    return chunk < 4 ? 4 : chunk;
}

// x[k, j0 + c] for k in [k0, k0 + kc), c < 16 → pb[k·16 + c], 0 where j0 + c ≥ N.
static inline void wg_pack_x_panel(const float *x, int64_t ldx, int64_t N, int64_t j0, int64_t k0, int64_t kc, float *pb) {
    const int64_t live = N - j0 >= 16 ? 16 : N - j0;
    if (live == 16) {
        for (int64_t k = k0; k < k0 + kc; k++) __builtin_memcpy_inline(pb + 16 * k, x + k * ldx + j0, 16 * sizeof(float));
    } else {
        for (int64_t k = k0; k < k0 + kc; k++)
            for (int64_t c = 0; c < 16; c++) pb[16 * k + c] = c < live ? x[k * ldx + j0 + c] : 0.0f;
    }
}

#if defined(__x86_64__) || defined(__i386__)
NK_AVX2_INLINE void wg_tile(const float *a, const float *b, int64_t kc, float *c, int64_t ldc, int rows, int full,
                            __m256i live0, __m256i live1, int load) {
    __m256 c0[6], c1[6];
    for (int i = 0; i < 6; i++) {
        if (load && i < rows) {
            c0[i] = full ? _mm256_loadu_ps(c + i * ldc) : _mm256_maskload_ps(c + i * ldc, live0);
            c1[i] = full ? _mm256_loadu_ps(c + i * ldc + 8) : _mm256_maskload_ps(c + i * ldc + 8, live1);
        } else { c0[i] = _mm256_setzero_ps(); c1[i] = _mm256_setzero_ps(); }
    }
#pragma clang loop unroll_count(4) /* as in lin_tile: fewer loop instructions per FMA */
    for (int64_t k = 0; k < kc; k++) {
        const __m256 w0 = _mm256_loadu_ps(b + k * 16), w1 = _mm256_loadu_ps(b + k * 16 + 8);
        for (int i = 0; i < 6; i++) {
            const __m256 s = _mm256_broadcast_ss(a + k * 6 + i);
            c0[i] = _mm256_fmadd_ps(s, w0, c0[i]);
            c1[i] = _mm256_fmadd_ps(s, w1, c1[i]);
        }
    }
    for (int i = 0; i < rows; i++) {
        float *r = c + i * ldc;
        if (full) { _mm256_storeu_ps(r, c0[i]); _mm256_storeu_ps(r + 8, c1[i]); }
        else { _mm256_maskstore_ps(r, live0, c0[i]); _mm256_maskstore_ps(r + 8, live1, c1[i]); }
    }
}

// Tile t (rows 6t…) × panel p of dW for the K block [k0, k0 + kc): whole tiles with constant
// arguments, so that their loads and stores need no branches.
NK_AVX2_INLINE void wg_tile_at(const float *pa, const float *pb, int64_t M, int64_t N, int64_t K, int64_t k0, int64_t kc, int64_t t,
                               int64_t p, float *c, int64_t ldc, int load, __m256i live0, __m256i live1) {
    const int64_t i0 = 6 * t, j0 = 16 * p;
    const float *a = pa + (t * K + k0) * 6, *b = pb + (p * K + k0) * 16;
    float *ct = c + i0 * ldc + j0;
    const int full = N - j0 >= 16;
    if (M - i0 >= 6 && full) {
        if (load) wg_tile(a, b, kc, ct, ldc, 6, 1, live0, live1, 1);
        else wg_tile(a, b, kc, ct, ldc, 6, 1, live0, live1, 0);
    } else wg_tile(a, b, kc, ct, ldc, M - i0 >= 6 ? 6 : (int)(M - i0), full, live0, live1, load);
}

__attribute__((target("avx2,fma"), noinline)) static void wgrad_avx2_panels(const float *pa, const float *x, int64_t ldx, float *pb, int64_t M,
                                                              int64_t N, int64_t K, int64_t p0, int64_t p1, float *c, int64_t ldc,
                                                              int accumulate) {
    const int64_t tiles = (M + 5) / 6, kblocks = (K + WG_KC - 1) / WG_KC, kc0 = (K + kblocks - 1) / kblocks;
    // the lanes of the last panel that exist (N need not be a multiple of 16)
    __m256i live0, live1;
    nk_live_lanes16(N - 16 * ((N - 1) / 16), &live0, &live1);
    for (int64_t k0 = 0; k0 < K; k0 += kc0) {
        const int64_t kc = K - k0 < kc0 ? K - k0 : kc0;
        const int load = accumulate || k0 > 0;
        for (int64_t p = p0; p < p1; p++) wg_pack_x_panel(x, ldx, N, 16 * p, k0, kc, pb + p * K * 16);
        for (int64_t t = 0; t < tiles; t++)
            for (int64_t p = p0; p < p1; p++) wg_tile_at(pa, pb, M, N, K, k0, kc, t, p, c, ldc, load, live0, live1);
    }
}

// Panels p0 ..< p1 in chunks that fit L2 (wg_panel_chunk), each chunk's K blocks in turn.
__attribute__((target("avx2,fma"))) static void wgrad_avx2(const float *pa, const float *x, int64_t ldx, float *pb, int64_t M,
                                                       int64_t N, int64_t K, int64_t p0, int64_t p1, float *c, int64_t ldc,
                                                       int accumulate) {
    const int64_t chunk = wg_panel_chunk(K < WG_KC ? K : WG_KC);
    for (int64_t c0 = p0; c0 < p1; c0 += chunk)
        wgrad_avx2_panels(pa, x, ldx, pb, M, N, K, c0, p1 - c0 < chunk ? p1 : c0 + chunk, c, ldc, accumulate);
}
#endif

#if defined(__x86_64__) || defined(__i386__)
// AVX-512 builds of the forward and of the weight gradient, on the same packed layouts. A 16-wide
// register holds a whole panel row, so a tile covers several panels: the forward's tiles are 12
// rows × 2 panels (24 accumulators: 2 loads of W and 12 broadcasts of x per 24 multiply-adds),
// the weight gradient's 6 rows × up to 4 panels (4 loads and 6 broadcasts per 24); columns past
// N are masked (one __mmask16 for the last panel), never stored. On CPUs with two 512-bit FMA
// units (Intel Xeon) this doubles the multiply-adds per instruction; on Zen 4, which splits each
// 512-bit operation in two, it halves the instructions the front end decodes per multiply-add.

// MR rows (from x at row stride ldx) × NP panels (the first at pb, the next K·16 values on); b:
// the NP bias vectors, or rb the MR rows' biases; last: the live columns of panel NP − 1; add:
// add what y holds (y += x·W), prefetched before the products and read after them (read first,
// its latency — the recurrent layers' gates come from L3 — held up every tile: 6 % slower).
// The products run over kc depths from x and pb (K: the panels' depth, the second panel K·16
// values after the first).
NK_AVX512_INLINE void lin_tile512(const int MR, const int NP, const int trans, const float *x, int64_t ldx, int64_t K, int64_t kc,
                                  const float *pb, const __m512 *b, const float *rb, float *y, int64_t ldy, __mmask16 last, int relu, int add) {
    __m512 c[12][2];
    const float *xr[12];
    _Pragma("clang loop unroll(full)")
    for (int i = 0; i < MR; i++) {
        _Pragma("clang loop unroll(full)")
        for (int v = 0; v < NP; v++) {
            if (add && !trans) _mm_prefetch((const char *)(y + i * ldy + 16 * v), _MM_HINT_T0);
            c[i][v] = add ? _mm512_setzero_ps() : rb ? _mm512_set1_ps(rb[i]) : b[v];
        }
        xr[i] = x + i * ldx;
    }
    const float *pb1 = pb + K * 16;
#pragma clang loop unroll(disable)
    for (int64_t p = 0; p < kc; p++) {
        const __m512 w0 = _mm512_loadu_ps(pb + p * 16);
        const __m512 w1 = NP > 1 ? _mm512_loadu_ps(pb1 + p * 16) : w0;
        _Pragma("clang loop unroll(full)")
        for (int i = 0; i < MR; i++) {
            const __m512 a = _mm512_set1_ps(xr[i][p]);
            c[i][0] = _mm512_fmadd_ps(a, w0, c[i][0]);
            if (NP > 1) c[i][1] = _mm512_fmadd_ps(a, w1, c[i][1]);
        }
    }
    const __m512 zero = _mm512_setzero_ps();
    if (trans) {
        // y holds the transpose: column j of the tile (panel v's lane b) is the row of y at
        // (16v + b)·ldy, its MR values stored at once (the rows past MR zero in the transpose)
        const __mmask16 rows = (__mmask16)((1u << MR) - 1u);
        _Pragma("clang loop unroll(full)")
        for (int v = 0; v < NP; v++) {
            __m512 r[16], t[16];
            _Pragma("clang loop unroll(full)")
            for (int i = 0; i < 16; i++) r[i] = i < MR ? c[i][v] : zero;
            nk_transpose16x16(r, t);
            const __mmask16 cols = v == NP - 1 ? last : (__mmask16)0xFFFF;
            _Pragma("clang loop unroll(full)")
            for (int j = 0; j < 16; j++) {
                if (!((cols >> j) & 1)) break;  // the live columns are the first ones
                float *col = y + (16 * v + j) * ldy;
                __m512 o = add ? _mm512_add_ps(_mm512_maskz_loadu_ps(rows, col), t[j]) : t[j];
                if (relu) o = _mm512_mask_mov_ps(o, _mm512_cmp_ps_mask(o, zero, _CMP_LT_OQ), zero);
                _mm512_mask_storeu_ps(col, rows, o);
            }
        }
        return;
    }
    _Pragma("clang loop unroll(full)")
    for (int i = 0; i < MR; i++) {
        float *r = y + i * ldy;
        _Pragma("clang loop unroll(full)")
        for (int v = 0; v < NP; v++) {
            const __mmask16 m = v == NP - 1 ? last : (__mmask16)0xFFFF;
            if (add) c[i][v] = _mm512_add_ps(_mm512_maskz_loadu_ps(m, r + 16 * v), c[i][v]);
            // relu as nk_relu_m256: lanes below zero become 0; NaN and −0 pass
            __m512 o = relu ? _mm512_mask_mov_ps(c[i][v], _mm512_cmp_ps_mask(c[i][v], zero, _CMP_LT_OQ), zero) : c[i][v];
            if (v == NP - 1 && last != 0xFFFF) _mm512_mask_storeu_ps(r + 16 * v, last, o);
            else _mm512_storeu_ps(r + 16 * v, o);
        }
    }
}

// (T: the tile's sums stored transposed, at y + j0·ldy + i0)
#define LIN512_CASE(MR, NP, T) case MR: lin_tile512(MR, NP, T, x + i0 * ldx + k0, ldx, K, kc, pb, b, rowBias ? rowBias + i0 : NULL, T ? y + j0 * ldy + i0 : y + i0 * ldy + j0, ldy, last, relu && lastBlock, add || k0 > 0); i0 += MR; break;
#define LIN512_ROWS(NP, T)                                                                                                     \
    for (int64_t i0 = m0; i0 < m1;) {                                                                                          \
        const int64_t left = m1 - i0;                                                                                          \
        switch (left >= 12 ? 12 : left >= 6 ? 6 : (int)left) {                                                                 \
            LIN512_CASE(12, NP, T) LIN512_CASE(6, NP, T) LIN512_CASE(5, NP, T) LIN512_CASE(4, NP, T) LIN512_CASE(3, NP, T)      \
            LIN512_CASE(2, NP, T) LIN512_CASE(1, NP, T)                                                                        \
        }                                                                                                                      \
    }

// Depths past 2·LIN512_KC (2048) are taken in blocks, each about K / ⌈K / LIN512_KC⌉ deep (the
// first block's tiles start from the bias, later ones add their sums to y, the activation on the
// last): a pair of panels kc deep (128 KB) and the rows' kc values stay in L2 for all the tiles
// that read them. Unblocked, fc1 of mnist-cnn (9216 inputs, 64 rows, 128 outputs) re-read its 4.7 MB
// of panels from L3 for every 12 rows: 135 against 147 GFLOP/s blocked (C timer, medians of nine
// alternating runs, Intel Xeon). The sums round per block.
#define LIN512_KC 1024
// trans: y [N, m1] gets the product's transpose (row i of the product is column i of y).
NK_AVX512 static void linear_packed_avx512(const float *x, int64_t ldx, int64_t m0, int64_t m1, int64_t K, const float *pk,
                                           const float *bias, const float *rowBias, int64_t N, float *y, int64_t ldy, int relu, int add,
                                           int trans) {
    const int64_t panels = (N + 15) / 16, blocks = K > 2 * LIN512_KC ? (K + LIN512_KC - 1) / LIN512_KC : 1, kcFull = (K + blocks - 1) / blocks;
    for (int64_t k0 = 0; k0 < K; k0 += kcFull) {
        const int64_t kc = K - k0 < kcFull ? K - k0 : kcFull;
        const int lastBlock = k0 + kc >= K;
        for (int64_t jp = 0; jp < panels; jp += 2) {
            const int np = panels - jp >= 2 ? 2 : 1;
            const int64_t j0 = 16 * jp;
            const __mmask16 last = nk_live_mask16(N - 16 * (jp + np - 1));
            __m512 b[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
            if (bias && k0 == 0)
                _Pragma("clang loop unroll(full)")
                for (int v = 0; v < np; v++) b[v] = _mm512_maskz_loadu_ps(v == np - 1 ? last : (__mmask16)0xFFFF, bias + j0 + 16 * v);
            const float *pb = pk + jp * K * 16 + k0 * 16;
            if (trans) {
                if (np == 2) { LIN512_ROWS(2, 1) }
                else { LIN512_ROWS(1, 1) }
            } else if (np == 2) { LIN512_ROWS(2, 0) }
            else { LIN512_ROWS(1, 0) }
        }
    }
}

// The segmented product's AVX-512 tiles: MR rows (each at its own offset in x) × NP panels, as
// lin_tile512, the depth in segs runs of segLen (the rows' pointers advance segStride between
// runs); c (+)= the sums, columns past N masked (last). Its depth loop repeats lin_tile512's: one
// inline function for both left the rows' pointers in memory here (mnist-cnn's conv2 weight
// gradient 7.8 → 8.1 ms, C timer, Xeon).
NK_AVX512_INLINE void seg_tile512(const int MR, const int NP, const float *x, const int64_t *off, int64_t segs, int64_t segLen,
                                  int64_t segStride, int64_t K, const float *pb, float *c, int64_t ldc, __mmask16 last, int add) {
    __m512 acc[12][2];
    const float *xr[12];
    _Pragma("clang loop unroll(full)")
    for (int i = 0; i < MR; i++) {
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
        xr[i] = x + off[i];
    }
    const float *pb1 = pb + K * 16;
#pragma clang loop unroll(disable)
    for (int64_t s = 0; s < segs; s++) {
#pragma clang loop unroll(disable)
        for (int64_t p = 0; p < segLen; p++) {
            const __m512 w0 = _mm512_loadu_ps(pb + p * 16);
            const __m512 w1 = NP > 1 ? _mm512_loadu_ps(pb1 + p * 16) : w0;
            _Pragma("clang loop unroll(full)")
            for (int i = 0; i < MR; i++) {
                const __m512 a = _mm512_set1_ps(xr[i][p]);
                acc[i][0] = _mm512_fmadd_ps(a, w0, acc[i][0]);
                if (NP > 1) acc[i][1] = _mm512_fmadd_ps(a, w1, acc[i][1]);
            }
        }
        pb += segLen * 16;
        pb1 += segLen * 16;
        _Pragma("clang loop unroll(full)")
        for (int i = 0; i < MR; i++) xr[i] += segStride;
    }
    _Pragma("clang loop unroll(full)")
    for (int i = 0; i < MR; i++) {
        float *r = c + i * ldc;
        _Pragma("clang loop unroll(full)")
        for (int v = 0; v < NP; v++) {
            const __mmask16 m = v == NP - 1 ? last : (__mmask16)0xFFFF;
            const __m512 o = add ? _mm512_add_ps(_mm512_maskz_loadu_ps(m, r + 16 * v), acc[i][v]) : acc[i][v];
            _mm512_mask_storeu_ps(r + 16 * v, m, o);
        }
    }
}
#define SEG512_CASE(MR, NP) case MR: seg_tile512(MR, NP, x, off + i0, segs, segLen, segStride, K, pb, c + i0 * ldc + j0, ldc, last, add); i0 += MR; break;
#define SEG512_ROWS(NP)                                                                                                        \
    for (int64_t i0 = m0; i0 < m1;) {                                                                                          \
        const int64_t left = m1 - i0;                                                                                          \
        switch (left >= 12 ? 12 : left >= 6 ? 6 : (int)left) {                                                                 \
            SEG512_CASE(12, NP) SEG512_CASE(6, NP) SEG512_CASE(5, NP) SEG512_CASE(4, NP) SEG512_CASE(3, NP) SEG512_CASE(2, NP) \
            SEG512_CASE(1, NP)                                                                                                 \
        }                                                                                                                      \
    }
NK_AVX512 static void gemm_segments_avx512(const float *x, const int64_t *off, int64_t m0, int64_t m1, int64_t segs, int64_t segLen,
                                           int64_t segStride, const float *pk, int64_t N, float *c, int64_t ldc, int add) {
    const int64_t K = segs * segLen, panels = (N + 15) / 16;
    for (int64_t jp = 0; jp < panels; jp += 2) {
        const int np = panels - jp >= 2 ? 2 : 1;
        const int64_t j0 = 16 * jp;
        const __mmask16 last = nk_live_mask16(N - 16 * (jp + np - 1));
        const float *pb = pk + jp * K * 16;
        if (np == 2) { SEG512_ROWS(2) }
        else { SEG512_ROWS(1) }
    }
}

// 6 rows of dW (the packed g tile a) × NP panels of packed x (the first at b, then K·16 values
// apart) over kc reductions; rows: the rows that exist; last: the live columns of panel NP − 1;
// load: add to what c holds.
NK_AVX512_INLINE void wg_tile512(const int NP, const float *a, const float *b, int64_t K, int64_t kc, float *c, int64_t ldc, int rows,
                                 __mmask16 last, int load) {
    __m512 acc[6][4];
    _Pragma("clang loop unroll(full)")
    for (int i = 0; i < 6; i++)
        _Pragma("clang loop unroll(full)")
        for (int v = 0; v < NP; v++) {
            const __mmask16 m = v == NP - 1 ? last : (__mmask16)0xFFFF;
            acc[i][v] = load && i < rows ? _mm512_maskz_loadu_ps(m, c + i * ldc + 16 * v) : _mm512_setzero_ps();
        }
#pragma clang loop unroll_count(2)
    for (int64_t k = 0; k < kc; k++) {
        __m512 w[4];
        _Pragma("clang loop unroll(full)")
        for (int v = 0; v < NP; v++) w[v] = _mm512_loadu_ps(b + v * K * 16 + k * 16);
        _Pragma("clang loop unroll(full)")
        for (int i = 0; i < 6; i++) {
            const __m512 s = _mm512_set1_ps(a[k * 6 + i]);
            _Pragma("clang loop unroll(full)")
            for (int v = 0; v < NP; v++) acc[i][v] = _mm512_fmadd_ps(s, w[v], acc[i][v]);
        }
    }
    for (int i = 0; i < rows; i++)
        _Pragma("clang loop unroll(full)")
        for (int v = 0; v < NP; v++) {
            if (v == NP - 1 && last != 0xFFFF) _mm512_mask_storeu_ps(c + i * ldc + 16 * v, last, acc[i][v]);
            else _mm512_storeu_ps(c + i * ldc + 16 * v, acc[i][v]);
        }
}

NK_AVX512 __attribute__((noinline)) static void wgrad_avx512_panels(const float *pa, const float *x, int64_t ldx, float *pb, int64_t M, int64_t N, int64_t K,
                                          int64_t p0, int64_t p1, float *c, int64_t ldc, int accumulate) {
    const int64_t tiles = (M + 5) / 6, kblocks = (K + WG_KC - 1) / WG_KC, kc0 = (K + kblocks - 1) / kblocks;
    for (int64_t k0 = 0; k0 < K; k0 += kc0) {
        const int64_t kc = K - k0 < kc0 ? K - k0 : kc0;
        const int load = accumulate || k0 > 0;
        for (int64_t p = p0; p < p1; p++) wg_pack_x_panel(x, ldx, N, 16 * p, k0, kc, pb + p * K * 16);
        for (int64_t t = 0; t < tiles; t++) {
            const int rows = M - 6 * t >= 6 ? 6 : (int)(M - 6 * t);
            const float *a = pa + (t * K + k0) * 6;
            for (int64_t p = p0; p < p1;) {
                const int np = p1 - p >= 4 ? 4 : (int)(p1 - p);
                const __mmask16 last = nk_live_mask16(N - 16 * (p + np - 1));
                const float *b = pb + (p * K + k0) * 16;
                float *ct = c + 6 * t * ldc + 16 * p;
                // whole tiles with the row count a constant: their loads and stores unrolled, the
                // accumulators never spilled to the stack for a loop over the rows
                if (np == 4 && rows == 6) wg_tile512(4, a, b, K, kc, ct, ldc, 6, last, load);
                else switch (np) {
                case 4: wg_tile512(4, a, b, K, kc, ct, ldc, rows, last, load); break;
                case 3: wg_tile512(3, a, b, K, kc, ct, ldc, rows, last, load); break;
                case 2: wg_tile512(2, a, b, K, kc, ct, ldc, rows, last, load); break;
                default: wg_tile512(1, a, b, K, kc, ct, ldc, rows, last, load); break;
                }
                p += np;
            }
        }
    }
}

// Panels p0 ..< p1 in chunks that fit L2 (wg_panel_chunk), each chunk's K blocks in turn.
NK_AVX512 static void wgrad_avx512(const float *pa, const float *x, int64_t ldx, float *pb, int64_t M, int64_t N, int64_t K, int64_t p0,
                                   int64_t p1, float *c, int64_t ldc, int accumulate) {
    const int64_t chunk = wg_panel_chunk(K < WG_KC ? K : WG_KC);
    for (int64_t c0 = p0; c0 < p1; c0 += chunk)
        wgrad_avx512_panels(pa, x, ldx, pb, M, N, K, c0, p1 - c0 < chunk ? p1 : c0 + chunk, c, ldc, accumulate);
}
#endif

// The same results with plain loops (the CPU level below AVX2, or not x86).
static void linear_pack_portable(const float *w, int64_t ldw, int64_t N, int64_t K, float *pk) {
    for (int64_t j = 0; j < (N + 15) / 16 * 16; j++)
        for (int64_t p = 0; p < K; p++) pk[((j / 16) * K + p) * 16 + j % 16] = j < N ? w[j * ldw + p] : 0.0f;
}
// trans: y holds the transpose (element (i, j) at y[j·ldy + i]), as linear_packed_avx512's.
static void linear_packed_portable(const float *x, int64_t ldx, int64_t m0, int64_t m1, int64_t K, const float *pk,
                                   const float *bias, const float *rowBias, int64_t N, float *y, int64_t ldy, int relu, int add, int trans) {
    for (int64_t i = m0; i < m1; i++)
        for (int64_t j = 0; j < N; j++) {
            float *out = trans ? y + j * ldy + i : y + i * ldy + j;
            float acc = add ? *out : rowBias ? rowBias[i] : bias ? bias[j] : 0.0f;
            for (int64_t p = 0; p < K; p++) acc += x[i * ldx + p] * pk[((j / 16) * K + p) * 16 + j % 16];
            *out = relu ? NK_RELU(acc) : acc;
        }
}

int nk_linear_packed_available(void) {
#if defined(__x86_64__) || defined(__i386__)
    return nk_cpu_level() >= 1;
#else
    return 0;
#endif
}
int nk_linear_packed_avx512(void) {
#if defined(__x86_64__) || defined(__i386__)
    return nk_cpu_level() >= 2;
#else
    return 0;
#endif
}
void nk_linear_pack_f32(const float *w, int64_t N, int64_t K, float *pk) { nk_pack_rows16_f32(w, K, N, K, pk); }
void nk_pack_rows16_f32(const float *w, int64_t ldw, int64_t N, int64_t K, float *pk) {
#if defined(__x86_64__) || defined(__i386__)
    if (nk_cpu_level() >= 1) { linear_pack_avx2(w, ldw, N, K, pk); return; }
#endif
    linear_pack_portable(w, ldw, N, K, pk);
}
void nk_linear_packed_f32(const float *x, int64_t ldx, int64_t m0, int64_t m1, int64_t K, const float *pk, const float *bias,
                          int64_t N, float *y, int64_t ldy, int32_t relu) {
#if defined(__x86_64__) || defined(__i386__)
    if (nk_cpu_level() >= 2) { linear_packed_avx512(x, ldx, m0, m1, K, pk, bias, NULL, N, y, ldy, relu != 0, 0, 0); return; }
    if (nk_cpu_level() >= 1) { linear_packed_avx2(x, ldx, m0, m1, K, pk, bias, NULL, N, y, ldy, relu != 0, 0); return; }
#endif
    linear_packed_portable(x, ldx, m0, m1, K, pk, bias, NULL, N, y, ldy, relu != 0, 0, 0);
}
void nk_linear_packed_add_f32(const float *x, int64_t ldx, int64_t m0, int64_t m1, int64_t K, const float *pk, int64_t N, float *y,
                              int64_t ldy) {
#if defined(__x86_64__) || defined(__i386__)
    if (nk_cpu_level() >= 2) { linear_packed_avx512(x, ldx, m0, m1, K, pk, NULL, NULL, N, y, ldy, 0, 1, 0); return; }
    if (nk_cpu_level() >= 1) { linear_packed_avx2(x, ldx, m0, m1, K, pk, NULL, NULL, N, y, ldy, 0, 1); return; }
#endif
    linear_packed_portable(x, ldx, m0, m1, K, pk, NULL, NULL, N, y, ldy, 0, 1, 0);
}
void nk_gemm_packed_f32(const float *a, int64_t lda, int64_t m0, int64_t m1, int64_t K, const float *pk, const float *rowBias,
                        int64_t N, float *c, int64_t ldc, int32_t relu) {
#if defined(__x86_64__) || defined(__i386__)
    if (nk_cpu_level() >= 2) { linear_packed_avx512(a, lda, m0, m1, K, pk, NULL, rowBias, N, c, ldc, relu != 0, 0, 0); return; }
    if (nk_cpu_level() >= 1) { linear_packed_avx2(a, lda, m0, m1, K, pk, NULL, rowBias, N, c, ldc, relu != 0, 0); return; }
#endif
    linear_packed_portable(a, lda, m0, m1, K, pk, NULL, rowBias, N, c, ldc, relu != 0, 0, 0);
}
// The segmented product on plain loops (below AVX2, or not x86): the same sums in the same order.
void nk_gemm_packed_t_f32(const float *a, int64_t lda, int64_t m0, int64_t m1, int64_t K, const float *pk, const float *rowBias,
                          int64_t N, float *c, int64_t ldc, int32_t relu) {
#if defined(__x86_64__) || defined(__i386__)
    if (nk_cpu_level() >= 2) { linear_packed_avx512(a, lda, m0, m1, K, pk, NULL, rowBias, N, c, ldc, relu != 0, 0, 1); return; }
#endif
    linear_packed_portable(a, lda, m0, m1, K, pk, NULL, rowBias, N, c, ldc, relu != 0, 0, 1);
}

static void gemm_segments_portable(const float *x, const int64_t *off, int64_t m0, int64_t m1, int64_t segs, int64_t segLen,
                                   int64_t segStride, const float *pk, int64_t N, float *c, int64_t ldc, int add) {
    const int64_t K = segs * segLen;
    for (int64_t i = m0; i < m1; i++)
        for (int64_t j = 0; j < N; j++) {
            float acc = 0.0f;
            for (int64_t s = 0; s < segs; s++)
                for (int64_t p = 0; p < segLen; p++)
                    acc += x[off[i] + s * segStride + p] * pk[((j / 16) * K + s * segLen + p) * 16 + j % 16];
            c[i * ldc + j] = add ? c[i * ldc + j] + acc : acc;
        }
}
void nk_gemm_segments_f32(const float *x, const int64_t *off, int64_t m0, int64_t m1, int64_t segs, int64_t segLen, int64_t segStride,
                          const float *pk, int64_t N, float *c, int64_t ldc, int32_t add) {
#if defined(__x86_64__) || defined(__i386__)
    if (nk_cpu_level() >= 2) { gemm_segments_avx512(x, off, m0, m1, segs, segLen, segStride, pk, N, c, ldc, add != 0); return; }
    if (nk_cpu_level() >= 1) { gemm_segments_avx2(x, off, m0, m1, segs, segLen, segStride, pk, N, c, ldc, add != 0); return; }
#endif
    gemm_segments_portable(x, off, m0, m1, segs, segLen, segStride, pk, N, c, ldc, add != 0);
}
void nk_pack_panels16_f32(const float *b, int64_t ldb, int64_t K, int64_t N, float *pk) {
    // the weight gradient's x panels have this layout already
    for (int64_t jp = 0; jp < (N + 15) / 16; jp++) wg_pack_x_panel(b, ldb, N, 16 * jp, 0, K, pk + jp * K * 16);
}

// The weight gradient: g's pack (any CPU) and the product (AVX2, or plain loops).
void nk_wgrad_pack_g_f32(const float *g, int64_t ldg, int64_t M, int64_t K, int64_t t0, int64_t t1, float *pa) {
    for (int64_t t = t0; t < t1; t++) {
        const int64_t i0 = 6 * t, live = M - i0 >= 6 ? 6 : M - i0;
        float *dst = pa + t * K * 6;
        if (live == 6) {
            for (int64_t k = 0; k < K; k++) memcpy(dst + 6 * k, g + k * ldg + i0, 6 * sizeof(float));
        } else {
            for (int64_t k = 0; k < K; k++)
                for (int64_t r = 0; r < 6; r++) dst[6 * k + r] = r < live ? g[k * ldg + i0 + r] : 0.0f;
        }
    }
}
// g's tile of `live` features from column i0 over K rows: pa[6k + r] = g[k, i0 + r]·f′(y[k, i0 + r]),
// 0 past live, and sums[r] = Σ_k in order. OP(g, y): the gradient of a vector (or scalar) for
// one activation; each level's loop is written once by this macro, the activation's switch
// outside it. A row of the tile is one masked vector: the scalar loop's compare-and-branch per
// value (relu's sign is data) spent 20 % of the mlp's training step mispredicting.
#define WG_PACK_ACT_SWITCH(LOOP, RELU, TANH, SIGMOID) \
    switch (op) {                                     \
    case NK_ACTIVATION_RELU: LOOP(RELU) break;        \
    case NK_ACTIVATION_TANH: LOOP(TANH) break;        \
    default: LOOP(SIGMOID) break;                     \
    }
#define WG_PACK_ACT_SCALAR(GRAD)                                                                        \
    for (int64_t k = 0; k < K; k++)                                                                     \
        for (int64_t r = 0; r < 6; r++) {                                                               \
            const float v = r < live ? GRAD(g[k * ldg + i0 + r], y[k * ldg + i0 + r]) : 0.0f;           \
            dst[6 * k + r] = v;                                                                         \
            sums[r] += v;                                                                               \
        }
static void wgrad_pack_g_act_portable(int32_t op, const float *g, const float *y, int64_t ldg, int64_t M, int64_t K, int64_t t0,
                                      int64_t t1, float *pa, float *dbias) {
#pragma clang fp contract(off) /* sigmoid's g·y·(1 − y) rounded as nk_activation_grad_f32 rounds it */
    for (int64_t t = t0; t < t1; t++) {
        const int64_t i0 = 6 * t, live = M - i0 >= 6 ? 6 : M - i0;
        float *dst = pa + t * K * 6, sums[6] = {0, 0, 0, 0, 0, 0};
        WG_PACK_ACT_SWITCH(WG_PACK_ACT_SCALAR, NK_RELU_GRAD, NK_TANH_GRAD, NK_SIGMOID_GRAD)
        if (dbias)
            for (int64_t r = 0; r < live; r++) dbias[i0 + r] = sums[r];
    }
}

#if defined(__x86_64__) || defined(__i386__)
// The same loop with each row of the tile one masked vector (nk_activation.h's vector rules).
#define WG512_LOOP(GRAD)                                                                          \
    for (int64_t k = 0; k < K; k++) {                                                             \
        const __m512 gv = _mm512_maskz_loadu_ps(m, g + k * ldg + i0), yv = _mm512_maskz_loadu_ps(m, y + k * ldg + i0); \
        const __m512 v = GRAD(gv, yv);                                                            \
        _mm512_mask_storeu_ps(dst + 6 * k, 0x3F, v);                                              \
        sums = _mm512_add_ps(sums, v);                                                            \
    }
NK_AVX512 static void wgrad_pack_g_act_avx512(int32_t op, const float *g, const float *y, int64_t ldg, int64_t M, int64_t K, int64_t t0,
                                              int64_t t1, float *pa, float *dbias) {
    for (int64_t t = t0; t < t1; t++) {
        const int64_t i0 = 6 * t, live = M - i0 >= 6 ? 6 : M - i0;
        // lanes past live load as 0 and give 0 for every rule; the 6 lanes of a row are stored
        const __mmask16 m = (__mmask16)((1u << live) - 1);
        float *dst = pa + t * K * 6;
        __m512 sums = _mm512_setzero_ps();
        WG_PACK_ACT_SWITCH(WG512_LOOP, nk_relu_grad_m512, nk_tanh_grad_m512, nk_sigmoid_grad_m512)
        if (dbias) _mm512_mask_storeu_ps(dbias + i0, m, sums);
    }
}
#define WG256_LOOP(GRAD)                                                                          \
    for (int64_t k = 0; k < K; k++) {                                                             \
        const __m256 gv = _mm256_maskload_ps(g + k * ldg + i0, m), yv = _mm256_maskload_ps(y + k * ldg + i0, m); \
        const __m256 v = GRAD(gv, yv);                                                            \
        _mm256_maskstore_ps(dst + 6 * k, six, v);                                                 \
        sums = _mm256_add_ps(sums, v);                                                            \
    }
__attribute__((target("avx2,fma"))) static void wgrad_pack_g_act_avx2(int32_t op, const float *g, const float *y, int64_t ldg, int64_t M,
                                                                     int64_t K, int64_t t0, int64_t t1, float *pa, float *dbias) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), six = _mm256_cmpgt_epi32(_mm256_set1_epi32(6), lane);
    for (int64_t t = t0; t < t1; t++) {
        const int64_t i0 = 6 * t, live = M - i0 >= 6 ? 6 : M - i0;
        const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)live), lane);
        float *dst = pa + t * K * 6;
        __m256 sums = _mm256_setzero_ps();
        WG_PACK_ACT_SWITCH(WG256_LOOP, nk_relu_grad_m256, nk_tanh_grad_m256, nk_sigmoid_grad_m256)
        if (dbias) _mm256_maskstore_ps(dbias + i0, m, sums);
    }
}
#endif

void nk_wgrad_pack_g_act_f32(int32_t op, const float *g, const float *y, int64_t ldg, int64_t M, int64_t K, int64_t t0, int64_t t1,
                             float *pa, float *dbias) {
#if defined(__x86_64__) || defined(__i386__)
    if (nk_cpu_level() >= 2) { wgrad_pack_g_act_avx512(op, g, y, ldg, M, K, t0, t1, pa, dbias); return; }
    if (nk_cpu_level() >= 1) { wgrad_pack_g_act_avx2(op, g, y, ldg, M, K, t0, t1, pa, dbias); return; }
#endif
    wgrad_pack_g_act_portable(op, g, y, ldg, M, K, t0, t1, pa, dbias);
}

static void wgrad_portable(const float *pa, const float *x, int64_t ldx, float *pb, int64_t M, int64_t N, int64_t K, int64_t p0,
                           int64_t p1, float *c, int64_t ldc, int accumulate) {
    for (int64_t p = p0; p < p1; p++) wg_pack_x_panel(x, ldx, N, 16 * p, 0, K, pb + p * K * 16);
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 16 * p0; j < N && j < 16 * p1; j++) {
            float acc = accumulate ? c[i * ldc + j] : 0.0f;
            for (int64_t k = 0; k < K; k++) acc += pa[((i / 6) * K + k) * 6 + i % 6] * pb[((j / 16) * K + k) * 16 + j % 16];
            c[i * ldc + j] = acc;
        }
}
void nk_wgrad_f32(const float *pa, const float *x, int64_t ldx, float *pb, int64_t M, int64_t N, int64_t K, int64_t p0, int64_t p1,
                  float *dw, int64_t ldw, int accumulate) {
#if defined(__x86_64__) || defined(__i386__)
    if (nk_cpu_level() >= 2) { wgrad_avx512(pa, x, ldx, pb, M, N, K, p0, p1, dw, ldw, accumulate); return; }
    if (nk_cpu_level() >= 1) { wgrad_avx2(pa, x, ldx, pb, M, N, K, p0, p1, dw, ldw, accumulate); return; }
#endif
    wgrad_portable(pa, x, ldx, pb, M, N, K, p0, p1, dw, ldw, accumulate);
}
