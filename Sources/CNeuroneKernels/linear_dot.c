// A fully connected layer's forward pass for a few rows of input (float32), y = x·Wᵀ + b, as dot
// products of x's rows with W's rows, both read where they lie: nothing is packed. With one to a
// few rows the product is a stream over W (784×1000 is 3.1 MB, past L2), and every other path
// costs a multiple of that stream — the packed kernel packs all of W first (reading and writing
// it once more than the product reads it), a GEMM packs it too, and the transposed forward pads x
// to 16-row panels. Here each tile is NW consecutive rows of W (NW output features, NW streams)
// against up to 4 rows of x (in L1): per 16 values of k, NW loads of W, NR loads of x and
// NR·NW multiply-adds into NR·NW vector accumulators (AVX-512: 16 lanes, up to 16 accumulators;
// AVX2: 8 lanes, up to 8), the tail of k by masked loads, then four accumulators summed across
// their lanes into four outputs at once (hsum4_256), the bias (and, with add, what y holds) added
// and relu applied before the store. Rows of x past 4 run again over the same tile of W while it
// is in L1. The recurrent layers add W_hh·h to the gates this way for a thread's block of one row.
#include "neurone_kernels.h"
#include <string.h>
#include "cpu_level.h"
#include "nk_avx2.h"

// relu as nk_activation_f32: y < 0 ? 0 : y (NaN and −0 kept)
static inline float dot_relu(float v) { return v < 0 ? 0.0f : v; }

// Every level's last resort, and the columns past the vector tiles' last whole NW: plain loops
// with eight partial sums (which clang keeps in one vector).
static void dot_portable(const float *x, int64_t ldx, int64_t rows, int64_t K, const float *w, int64_t ldw, const float *bias,
                         int64_t n0, int64_t n1, float *y, int64_t ldy, int32_t relu, int32_t add) {
    for (int64_t j = n0; j < n1; j++) {
        const float *wr = w + j * ldw;
        for (int64_t r = 0; r < rows; r++) {
            const float *xr = x + r * ldx;
            float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            int64_t k = 0;
            for (; k + 8 <= K; k += 8)
                for (int l = 0; l < 8; l++) part[l] += xr[k + l] * wr[k + l];
            float s = 0;
            for (; k < K; k++) s += xr[k] * wr[k];
            s += ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
            if (bias) s += bias[j];
            if (add) s += y[r * ldy + j];
            y[r * ldy + j] = relu ? dot_relu(s) : s;
        }
    }
}

#if defined(__x86_64__) || defined(__i386__)
// The lane sums of four 8-lane vectors: [Σa, Σb, Σc, Σd].
NK_AVX2_INLINE __m128 hsum4_256(__m256 a, __m256 b, __m256 c, __m256 d) {
    const __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
    return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

// NW outputs (columns j..j+NW of y) of NR rows from their sums s[r] (lanes past NW unused): the
// bias, what y holds (add), relu, the store.
NK_AVX2_INLINE void dot_store(const int NR, const int NW, const __m128 s[4], const float *bias, int64_t j, float *y, int64_t ldy,
                              int32_t relu, int32_t add) {
    __m128 b = _mm_setzero_ps();
    if (bias) {
        if (NW == 4) b = _mm_loadu_ps(bias + j);
        else { float t[4] = {0, 0, 0, 0}; for (int c = 0; c < NW; c++) t[c] = bias[j + c]; b = _mm_loadu_ps(t); }
    }
    for (int r = 0; r < NR; r++) {
        __m128 v = _mm_add_ps(s[r], b);
        if (add) {
            if (NW == 4) v = _mm_add_ps(v, _mm_loadu_ps(y + r * ldy + j));
            else { float t[4] = {0, 0, 0, 0}; for (int c = 0; c < NW; c++) t[c] = y[r * ldy + j + c]; v = _mm_add_ps(v, _mm_loadu_ps(t)); }
        }
        if (relu) v = _mm_andnot_ps(_mm_cmplt_ps(v, _mm_setzero_ps()), v);
        if (NW == 4) _mm_storeu_ps(y + r * ldy + j, v);
        else { float t[4]; _mm_storeu_ps(t, v); for (int c = 0; c < NW; c++) y[r * ldy + j + c] = t[c]; }
    }
}

// AVX2: one tile of NR ≤ 4 rows of x × NW ≤ 4 rows of W (NR·NW ≤ 8 accumulators: AVX2 has 16
// registers for them, the loads of W and x).
NK_AVX2_INLINE void dot_tile_avx2(const int NR, const int NW, const float *x, int64_t ldx, int64_t K, const float *w, int64_t ldw,
                                  const float *bias, int64_t j, float *y, int64_t ldy, int32_t relu, int32_t add) {
    __m256 acc[4][4];
    for (int r = 0; r < NR; r++)
        for (int c = 0; c < NW; c++) acc[r][c] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 wv[4];
        for (int c = 0; c < NW; c++) wv[c] = _mm256_loadu_ps(w + (j + c) * ldw + k);
        for (int r = 0; r < NR; r++) {
            const __m256 xv = _mm256_loadu_ps(x + r * ldx + k);
            for (int c = 0; c < NW; c++) acc[r][c] = _mm256_fmadd_ps(xv, wv[c], acc[r][c]);
        }
    }
    if (k < K) {  // the last K % 8 values of k, by masked loads
        int32_t lanes[8];
        for (int l = 0; l < 8; l++) lanes[l] = k + l < K ? -1 : 0;
        const __m256i m = _mm256_loadu_si256((const __m256i *)lanes);
        __m256 wv[4];
        for (int c = 0; c < NW; c++) wv[c] = _mm256_maskload_ps(w + (j + c) * ldw + k, m);
        for (int r = 0; r < NR; r++) {
            const __m256 xv = _mm256_maskload_ps(x + r * ldx + k, m);
            for (int c = 0; c < NW; c++) acc[r][c] = _mm256_fmadd_ps(xv, wv[c], acc[r][c]);
        }
    }
    __m128 s[4];
    for (int r = 0; r < NR; r++) {
        const __m256 z = _mm256_setzero_ps();
        s[r] = hsum4_256(acc[r][0], NW > 1 ? acc[r][1] : z, NW > 2 ? acc[r][2] : z, NW > 3 ? acc[r][3] : z);
    }
    dot_store(NR, NW, s, bias, j, y, ldy, relu, add);
}

// AVX-512: NR ≤ 4 rows of x × NW ≤ 4 rows of W (up to 16 accumulators of 16 lanes), the tail of
// k by masked loads.
NK_AVX512_INLINE void dot_tile_avx512(const int NR, const int NW, const float *x, int64_t ldx, int64_t K, const float *w,
                                      int64_t ldw, const float *bias, int64_t j, float *y, int64_t ldy, int32_t relu, int32_t add) {
    __m512 acc[4][4];
    for (int r = 0; r < NR; r++)
        for (int c = 0; c < NW; c++) acc[r][c] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 wv[4];
        for (int c = 0; c < NW; c++) wv[c] = _mm512_loadu_ps(w + (j + c) * ldw + k);
        for (int r = 0; r < NR; r++) {
            const __m512 xv = _mm512_loadu_ps(x + r * ldx + k);
            for (int c = 0; c < NW; c++) acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
        }
    }
    if (k < K) {
        const __mmask16 m = nk_live_mask16(K - k);
        __m512 wv[4];
        for (int c = 0; c < NW; c++) wv[c] = _mm512_maskz_loadu_ps(m, w + (j + c) * ldw + k);
        for (int r = 0; r < NR; r++) {
            const __m512 xv = _mm512_maskz_loadu_ps(m, x + r * ldx + k);
            for (int c = 0; c < NW; c++) acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
        }
    }
    __m128 s[4];
    for (int r = 0; r < NR; r++) {
        __m256 h[4];
        for (int c = 0; c < 4; c++)
            h[c] = c < NW ? _mm256_add_ps(_mm512_castps512_ps256(acc[r][c]), _mm512_extractf32x8_ps(acc[r][c], 1)) : _mm256_setzero_ps();
        s[r] = hsum4_256(h[0], h[1], h[2], h[3]);
    }
    dot_store(NR, NW, s, bias, j, y, ldy, relu, add);
}

// Columns [n0, n1) at one level: tiles of 4 rows of W (then 1–3), each over x's rows 4 at a time.
#define DOT_DRIVER(NAME, ATTR, TILE)                                                                                      \
    ATTR static void NAME(const float *x, int64_t ldx, int64_t rows, int64_t K, const float *w, int64_t ldw,               \
                          const float *bias, int64_t n0, int64_t n1, float *y, int64_t ldy, int32_t relu, int32_t add) {  \
        for (int64_t j = n0; j < n1; j += 4) {                                                                             \
            const int nw = n1 - j < 4 ? (int)(n1 - j) : 4;                                                                 \
            for (int64_t r = 0; r < rows; r += 4) {                                                                        \
                const int nr = rows - r < 4 ? (int)(rows - r) : 4;                                                         \
                const float *xr = x + r * ldx;                                                                             \
                float *yr = y + r * ldy;                                                                                   \
                switch (nr * 8 + nw) {                                                                                     \
                DOT_CASES(TILE)                                                                                            \
                default: break;                                                                                            \
                }                                                                                                          \
            }                                                                                                              \
        }                                                                                                                  \
    }
#define DOT_CASE(TILE, NR, NW) case NR * 8 + NW: TILE(NR, NW, xr, ldx, K, w, ldw, bias, j, yr, ldy, relu, add); break;
#define DOT_CASES(TILE)                                                                                                   \
    DOT_CASE(TILE, 1, 1) DOT_CASE(TILE, 1, 2) DOT_CASE(TILE, 1, 3) DOT_CASE(TILE, 1, 4)                                   \
    DOT_CASE(TILE, 2, 1) DOT_CASE(TILE, 2, 2) DOT_CASE(TILE, 2, 3) DOT_CASE(TILE, 2, 4)                                   \
    DOT_CASE(TILE, 3, 1) DOT_CASE(TILE, 3, 2) DOT_CASE(TILE, 3, 3) DOT_CASE(TILE, 3, 4)                                   \
    DOT_CASE(TILE, 4, 1) DOT_CASE(TILE, 4, 2) DOT_CASE(TILE, 4, 3) DOT_CASE(TILE, 4, 4)

// AVX2 keeps NR·NW ≤ 8 accumulators: tiles of 3–4 rows of x take W's rows two at a time.
#define DOT_TILE_AVX2(NR, NW, ...)                                                                                        \
    do {                                                                                                                  \
        if ((NR) * (NW) <= 8) dot_tile_avx2(NR, NW, __VA_ARGS__);                                                         \
        else { dot_tile_avx2(NR, 2, __VA_ARGS__); dot_tile_avx2_hi(NR, (NW) - 2, __VA_ARGS__); }                         \
    } while (0)
// the second pair of W's rows of a tile: W, the bias and y moved on by two columns
#define dot_tile_avx2_hi(NR, NW, x, ldx, K, w, ldw, bias, j, y, ldy, relu, add) \
    dot_tile_avx2(NR, NW, x, ldx, K, w, ldw, bias, (j) + 2, y, ldy, relu, add)
DOT_DRIVER(dot_avx2, __attribute__((target("avx2,fma"))), DOT_TILE_AVX2)
DOT_DRIVER(dot_avx512, NK_AVX512, dot_tile_avx512)
#endif

void nk_linear_dot_f32(const float *x, int64_t ldx, int64_t rows, int64_t K, const float *w, int64_t ldw, const float *bias,
                       int64_t n0, int64_t n1, float *y, int64_t ldy, int32_t relu, int32_t add) {
    if (rows <= 0 || n1 <= n0) return;
#if defined(__x86_64__) || defined(__i386__)
    const int level = nk_cpu_level();
    if (level >= 2) { dot_avx512(x, ldx, rows, K, w, ldw, bias, n0, n1, y, ldy, relu, add); return; }
    if (level >= 1) { dot_avx2(x, ldx, rows, K, w, ldw, bias, n0, n1, y, ldy, relu, add); return; }
#endif
    dot_portable(x, ldx, rows, K, w, ldw, bias, n0, n1, y, ldy, relu, add);
}
