// im2col and col2im for NCHW convolutions, float32 and float64.
// g = {C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, sampleStride, rowStride} (see
// neurone_kernels.h). Rows of the columns are short (oh·ow values split into ow-long runs, 10 to
// 28 values for the course's networks), so runs are copied with fixed-size inline moves rather
// than memcpy calls, and the zero borders of padded rows are filled around the copied middle.
#include "neurone_kernels.h"
#include <string.h>
#include "cpu_level.h"
#include "nk_avx2.h"

#if defined(__x86_64__) || defined(__i386__)
// dst[q·16 + r] = rows[r][q] for the columns q < n that fill whole 8-column blocks; returns how
// many columns it wrote.
__attribute__((target("avx2,fma"))) static inline int64_t nk_transpose_rows16_avx2(const float *const rows[16], int64_t n, float *dst) {
    int64_t q = 0;
    for (; q + 8 <= n; q += 8)
        for (int h = 0; h < 2; h++) {
            __m256 r[8];
            for (int a = 0; a < 8; a++) r[a] = _mm256_loadu_ps(rows[8 * h + a] + q);
            nk_transpose8x8_store(r, dst + q * 16 + 8 * h, 16);
        }
    return q;
}
#endif

#pragma STDC FP_CONTRACT ON

typedef struct { int64_t c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, ss, rs; } geom;

static geom geom_of(const int64_t *g) {
    geom r = {g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13], g[14]};
    return r;
}

// Output columns [*lo, *hi) of a row whose first tap reads input column x0 (stride 1) lie
// inside the input.
static inline void valid_range(int64_t x0, int64_t ow, int64_t w, int64_t *lo, int64_t *hi) {
    int64_t a = x0 < 0 ? -x0 : 0, b = w - x0 < ow ? w - x0 : ow;
    if (b < a) b = a;
    *lo = a < ow ? a : ow;
    *hi = b;
}

// Copies n bytes (a multiple of 4), n usually 40 to 120: 32-byte moves and one last move that
// overlaps the previous one, so there is no remainder loop (and no library call).
static inline __attribute__((always_inline)) void copy_short(char *d, const char *s, int64_t n) {
    if (n >= 32) {
        int64_t k = 0;
        for (; k + 32 < n; k += 32) __builtin_memcpy_inline(d + k, s + k, 32);
        __builtin_memcpy_inline(d + n - 32, s + n - 32, 32);
    } else if (n >= 16) {
        __builtin_memcpy_inline(d, s, 16);
        __builtin_memcpy_inline(d + n - 16, s + n - 16, 16);
    } else {
        for (int64_t k = 0; k < n; k += 4) __builtin_memcpy_inline(d + k, s + k, 4);
    }
}

// One im2col per element type. With stride 1 along rows, each (c, i, j) row of the columns is
// oh runs of ow values, run oy read from input row oy·sh − ph + i·dh at column x0 = j·dw − pw;
// the copies are short element loops (no memcpy calls: no_builtin) that the compiler vectorises.
#define DEFINE_IM2COL(SUFFIX, T)                                                                        \
    __attribute__((no_builtin("memcpy", "memset", "memmove"))) static inline __attribute__((always_inline)) \
    void im2col_##SUFFIX(const T *x, geom g, T *cols, int64_t plane0, int64_t plane1) {                \
        const int64_t kk = g.kh * g.kw, ow = g.ow;                                                      \
        for (int64_t plane = plane0; plane < plane1; plane++) {                                         \
            const T *in = x + plane * g.h * g.w;                                                        \
            const int64_t n = plane / g.c, c = plane % g.c;                                             \
            for (int64_t i = 0; i < g.kh; i++) {                                                        \
                /* rows oy in [yLo, yHi) read inside the input */                                       \
                int64_t yLo = 0, yHi = g.oh;                                                            \
                while (yLo < g.oh && yLo * g.sh - g.ph + i * g.dh < 0) yLo++;                           \
                while (yHi > yLo && (yHi - 1) * g.sh - g.ph + i * g.dh >= g.h) yHi--;                   \
                for (int64_t j = 0; j < g.kw; j++) {                                                    \
                    T *row = cols + n * g.ss + (c * kk + i * g.kw + j) * g.rs;                          \
                    const int64_t x0 = j * g.dw - g.pw;                                                 \
                    for (int64_t t = 0; t < yLo * ow; t++) row[t] = 0;                                  \
                    for (int64_t t = yHi * ow; t < g.oh * ow; t++) row[t] = 0;                          \
                    if (g.sw == 1) {                                                                    \
                        int64_t lo, hi;                                                                 \
                        valid_range(x0, ow, g.w, &lo, &hi);                                             \
                        if (lo == 0 && hi == ow) {                                                      \
                            const T *src = in + (yLo * g.sh - g.ph + i * g.dh) * g.w + x0;              \
                            const int64_t step = g.sh * g.w, bytes = ow * (int64_t)sizeof(T);           \
                            T *out = row + yLo * ow;                                                    \
                            for (int64_t oy = yLo; oy < yHi; oy++, src += step, out += ow)              \
                                copy_short((char *)out, (const char *)src, bytes);                      \
                            continue;                                                                   \
                        }                                                                               \
                        for (int64_t oy = yLo; oy < yHi; oy++) {                                        \
                            const T *src = in + (oy * g.sh - g.ph + i * g.dh) * g.w + x0;               \
                            T *out = row + oy * ow;                                                     \
                            for (int64_t ox = 0; ox < lo; ox++) out[ox] = 0;                            \
                            copy_short((char *)(out + lo), (const char *)(src + lo), (hi - lo) * (int64_t)sizeof(T)); \
                            for (int64_t ox = hi; ox < ow; ox++) out[ox] = 0;                           \
                        }                                                                               \
                    } else {                                                                            \
                        for (int64_t oy = yLo; oy < yHi; oy++) {                                        \
                            const T *src = in + (oy * g.sh - g.ph + i * g.dh) * g.w;                    \
                            T *out = row + oy * ow;                                                     \
                            for (int64_t ox = 0; ox < ow; ox++) {                                       \
                                const int64_t xx = ox * g.sw + x0;                                      \
                                out[ox] = (xx >= 0 && xx < g.w) ? src[xx] : (T)0;                       \
                            }                                                                           \
                        }                                                                               \
                    }                                                                                   \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

DEFINE_IM2COL(f32, float)
DEFINE_IM2COL(f64, double)

// The same code compiled for AVX2 (32-byte moves) and the baseline, chosen at run time.
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) static void im2col_avx2(int64_t es, const void *x, geom g, void *cols, int64_t p0, int64_t p1) {
    if (es == 4) im2col_f32((const float *)x, g, (float *)cols, p0, p1);
    else im2col_f64((const double *)x, g, (double *)cols, p0, p1);
}
#endif
static void im2col_base(int64_t es, const void *x, geom g, void *cols, int64_t p0, int64_t p1) {
    if (es == 4) im2col_f32((const float *)x, g, (float *)cols, p0, p1);
    else im2col_f64((const double *)x, g, (double *)cols, p0, p1);
}

void nk_im2col(int64_t elemSize, const void *x, const int64_t *gp, void *cols, int64_t plane0, int64_t plane1) {
#if defined(__x86_64__) || defined(__i386__)
    if (nk_cpu_level() >= 1) { im2col_avx2(elemSize, x, geom_of(gp), cols, plane0, plane1); return; }
#endif
    im2col_base(elemSize, x, geom_of(gp), cols, plane0, plane1);
}

// Rows a multiple of 8 wide (mnist-cnn's 24), columns [q0, q1) only (q0 a multiple of 16, q1 of
// 8), panel by panel: each 8 columns (one run of an output row) are written for all K rows in
// turn, every value read straight from x (8 at a time where they lie inside the input with stride
// 1 along rows, one by one at the borders), so that the panels are written sequentially, each
// line whole. (The row-by-row order, im2col_panels below, writes each row across every panel, a
// line at a time 18 KB apart: 1.7× slower for mnist-cnn's conv2, measured in C.) A range of
// columns lets the caller keep its panels in L2 and multiply them at once.
static inline __attribute__((always_inline)) void panels8_piece(const float *x, geom g, int64_t s, int64_t oy, int64_t ox, float *dst) {
    int64_t rowOff[32], colOff[32];
    int yok[32], xok[32];
    for (int64_t i = 0; i < g.kh; i++) {
        const int64_t y = oy * g.sh - g.ph + i * g.dh;
        yok[i] = y >= 0 && y < g.h;
        rowOff[i] = y * g.w;
    }
    for (int64_t j = 0; j < g.kw; j++) {
        const int64_t x0 = ox * g.sw + j * g.dw - g.pw;
        colOff[j] = x0;
        xok[j] = g.sw == 1 && x0 >= 0 && x0 + 8 <= g.w;
    }
    for (int64_t c = 0; c < g.c; c++) {
        const float *plane = x + (s * g.c + c) * g.h * g.w;
        for (int64_t i = 0; i < g.kh; i++)
            for (int64_t j = 0; j < g.kw; j++, dst += 16) {
                if (yok[i] && xok[j]) { __builtin_memcpy_inline(dst, plane + rowOff[i] + colOff[j], 8 * sizeof(float)); continue; }
                for (int64_t a = 0; a < 8; a++) {
                    const int64_t xx = colOff[j] + a * g.sw;
                    dst[a] = yok[i] && xx >= 0 && xx < g.w ? plane[rowOff[i] + xx] : 0.0f;
                }
            }
    }
}
static inline __attribute__((always_inline)) void im2col_panels8(const float *x, geom g, int64_t q0, int64_t q1, float *pk) {
    const int64_t l = g.oh * g.ow, K = g.c * g.kh * g.kw;
    for (int64_t q = q0; q < q1; q += 8)
        panels8_piece(x, g, q / l, (q % l) / g.ow, q % g.ow, pk + ((q - q0) >> 4) * K * 16 + ((q - q0) & 15));
    if ((q1 - q0) & 15) { /* the last panel's second half */
        float *dst = pk + ((q1 - q0) >> 4) * K * 16 + 8;
        for (int64_t k = 0; k < K; k++) memset(dst + k * 16, 0, 8 * sizeof(float));
    }
}
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) static void im2col_panels8_avx2(const float *x, geom g, int64_t q0, int64_t q1, float *pk) {
    im2col_panels8(x, g, q0, q1, pk);
}
#endif
#if defined(__x86_64__) || defined(__i386__)
// Any row width, stride 1 along rows (AVX-512): each 16-column panel is split once into its runs
// of consecutive output columns (at most 16; two or three for LeNet-5's 10-wide rows). Per tap
// (i, j), each run that reads inside the input gets its offset and lane mask (its live columns
// only: the padding and the lanes past q1 stay 0); then the tap's row of every channel is
// gathered in a register by one masked load per run and stored once. (The scratch path,
// im2col_panels, writes every value twice: rows of 10 cost LeNet-5's conv2 more than its product.)
NK_AVX512 static void im2col_panels16_avx512(const float *x, geom g, int64_t q0, int64_t q1, float *pk) {
    const int64_t l = g.oh * g.ow, kk = g.kh * g.kw, K = g.c * kk, plane = g.h * g.w, rowStep = kk * 16;
    for (int64_t q = q0; q < q1; q += 16) {
        int64_t lane[16], count[16], base[16], y0[16], x0[16], runs = 0;
        for (int64_t d = 0; d < 16 && q + d < q1; runs++) {
            const int64_t col = q + d, s = col / l, oy = (col % l) / g.ow, ox = col % g.ow;
            int64_t n = g.ow - ox;
            if (n > 16 - d) n = 16 - d;
            if (n > q1 - col) n = q1 - col;
            lane[runs] = d; count[runs] = n; base[runs] = s * g.c * plane;
            y0[runs] = oy * g.sh - g.ph; x0[runs] = ox - g.pw;
            d += n;
        }
        float *panel = pk + ((q - q0) >> 4) * K * 16;
        for (int64_t i = 0; i < g.kh; i++)
            for (int64_t j = 0; j < g.kw; j++) {
                /* the runs that read inside the input: lane t of run r's load reads x at off[r] + t */
                const float *src[16];
                __mmask16 msk[16];
                int64_t live = 0;
                for (int64_t r = 0; r < runs; r++) {
                    const int64_t y = y0[r] + i * g.dh, xs = x0[r] + j * g.dw;
                    if (y < 0 || y >= g.h) continue;
                    const int64_t lo = xs < 0 ? -xs : 0, hi = g.w - xs < count[r] ? g.w - xs : count[r];
                    if (lo >= hi) continue;
                    msk[live] = (__mmask16)(((1u << (hi - lo)) - 1u) << (lane[r] + lo));
                    src[live++] = x + base[r] + y * g.w + xs - lane[r];
                }
                float *dst = panel + (i * g.kw + j) * 16;
                switch (live) {
                case 0:
                    for (int64_t c = 0; c < g.c; c++) _mm512_storeu_ps(dst + c * rowStep, _mm512_setzero_ps());
                    break;
                case 1:
                    for (int64_t c = 0, o = 0; c < g.c; c++, o += plane)
                        _mm512_storeu_ps(dst + c * rowStep, _mm512_maskz_loadu_ps(msk[0], src[0] + o));
                    break;
                case 2:
                    for (int64_t c = 0, o = 0; c < g.c; c++, o += plane)
                        _mm512_storeu_ps(dst + c * rowStep, _mm512_mask_loadu_ps(_mm512_maskz_loadu_ps(msk[0], src[0] + o), msk[1], src[1] + o));
                    break;
                case 3:
                    for (int64_t c = 0, o = 0; c < g.c; c++, o += plane) {
                        __m512 v = _mm512_maskz_loadu_ps(msk[0], src[0] + o);
                        v = _mm512_mask_loadu_ps(v, msk[1], src[1] + o);
                        _mm512_storeu_ps(dst + c * rowStep, _mm512_mask_loadu_ps(v, msk[2], src[2] + o));
                    }
                    break;
                default:
                    for (int64_t c = 0, o = 0; c < g.c; c++, o += plane) {
                        __m512 v = _mm512_maskz_loadu_ps(msk[0], src[0] + o);
                        for (int64_t r = 1; r < live; r++) v = _mm512_mask_loadu_ps(v, msk[r], src[r] + o);
                        _mm512_storeu_ps(dst + c * rowStep, v);
                    }
                }
            }
    }
}
#endif
int nk_im2col_panels_range_supported(const int64_t *gp) {
    const geom g = geom_of(gp);
#if defined(__x86_64__) || defined(__i386__)
    if (g.sw == 1 && nk_cpu_level() >= 2) return 1;
#endif
    return g.ow % 8 == 0 && g.kh <= 32 && g.kw <= 32;
}
void nk_im2col_panels_range_f32(const float *x, const int64_t *gp, int64_t q0, int64_t q1, float *pk) {
#if defined(__x86_64__) || defined(__i386__)
    const geom g = geom_of(gp);
    if (g.sw == 1 && nk_cpu_level() >= 2) { im2col_panels16_avx512(x, g, q0, q1, pk); return; }
    if (nk_cpu_level() >= 1) { im2col_panels8_avx2(x, g, q0, q1, pk); return; }
#endif
    im2col_panels8(x, geom_of(gp), q0, q1, pk);
}

// Per channel: the kh·kw rows of the m samples into scratch (rows m·L long, in L1 for the course's
// shapes), then 16-column pieces of each row copied to their panels with inline 64-byte moves.
static inline __attribute__((always_inline)) void im2col_panels(const float *x, geom g, int64_t m, float *scratch, float *pk, int avx2) {
    const int64_t kk = g.kh * g.kw, l = g.oh * g.ow, ml = m * l, K = g.c * kk, full = ml / 16;
    geom one = g;
    one.c = 1; one.ss = 0; one.rs = ml;
    for (int64_t c = 0; c < g.c; c++) {
        for (int64_t s = 0; s < m; s++) {
            const float *plane = x + (s * g.c + c) * g.h * g.w;
#if defined(__x86_64__) || defined(__i386__)
            if (avx2) { im2col_avx2(4, plane, one, scratch + s * l, 0, 1); continue; }
#endif
            im2col_base(4, plane, one, scratch + s * l, 0, 1);
        }
        for (int64_t r = 0; r < kk; r++) {
            const float *src = scratch + r * ml;
            float *dst = pk + (c * kk + r) * 16;
            for (int64_t jp = 0; jp < full; jp++) __builtin_memcpy_inline(dst + jp * K * 16, src + 16 * jp, 16 * sizeof(float));
            if (full * 16 < ml) {
                const int64_t live = ml - 16 * full;
                for (int64_t q = 0; q < 16; q++) dst[full * K * 16 + q] = q < live ? src[16 * full + q] : 0.0f;
            }
        }
    }
}
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) static void im2col_panels_avx2(const float *x, geom g, int64_t m, float *scratch, float *pk) {
    im2col_panels(x, g, m, scratch, pk, 1);
}
#endif
void nk_im2col_panels_f32(const float *x, const int64_t *gp, int64_t m, float *scratch, float *pk) {
#if defined(__x86_64__) || defined(__i386__)
    if (nk_cpu_level() >= 1) { im2col_panels_avx2(x, geom_of(gp), m, scratch, pk); return; }
#endif
    im2col_panels(x, geom_of(gp), m, scratch, pk, 0);
}

// im2col of m samples straight into the weight gradient's transposed panels (the layout of
// nk_linear_pack_f32 applied to the columns [K, m·L]), read from x itself: for each panel of 16
// rows and each output row oy of a sample, the 16 source runs (ow values each) are transposed
// into the panel, by 8×8 register transposes on AVX2. A run that lies inside the input (stride 1
// along rows) is read in place; one that touches the padding, or strided, is first gathered into
// scratch; rows past K read zeros. No columns are written and read back, no rows copied twice.
// scratch: 17·ow floats.
static inline __attribute__((always_inline)) void im2col_kpanels(const float *x, geom g, int64_t m, int64_t kp0, int64_t kp1, float *scratch,
                                                                  float *pk, int avx2) {
    const int64_t kk = g.kh * g.kw, l = g.oh * g.ow, ml = m * l, K = g.c * kk, ow = g.ow;
    float *zeros = scratch + 16 * ow;
    for (int64_t q = 0; q < ow; q++) zeros[q] = 0.0f;
    for (int64_t kp = kp0; kp < kp1; kp++) {
        float *dst = pk + (kp - kp0) * ml * 16;
        /* per row of the panel: its channel's plane offset, its first input row (at oy = 0) and column */
        int64_t planeOff[16], y0[16], x0s[16], live = K - 16 * kp < 16 ? K - 16 * kp : 16;
        for (int64_t r = 0; r < live; r++) {
            const int64_t k = 16 * kp + r, c = k / kk, i = (k % kk) / g.kw, j = k % g.kw;
            planeOff[r] = c * g.h * g.w;
            y0[r] = i * g.dh - g.ph;
            x0s[r] = j * g.dw - g.pw;
        }
        for (int64_t s = 0; s < m; s++)
            for (int64_t oy = 0; oy < g.oh; oy++) {
                const float *rows[16];
                for (int64_t r = 0; r < 16; r++) {
                    rows[r] = zeros;
                    if (r >= live) continue;
                    const int64_t y = oy * g.sh + y0[r], x0 = x0s[r];
                    if (y < 0 || y >= g.h) continue;
                    const float *src = x + s * g.c * g.h * g.w + planeOff[r] + y * g.w;
                    if (g.sw == 1 && x0 >= 0 && x0 + ow <= g.w) { rows[r] = src + x0; continue; }
                    float *run = scratch + r * ow;
                    for (int64_t ox = 0; ox < ow; ox++) {
                        const int64_t xx = ox * g.sw + x0;
                        run[ox] = (xx >= 0 && xx < g.w) ? src[xx] : 0.0f;
                    }
                    rows[r] = run;
                }
                float *d = dst + (s * l + oy * ow) * 16;
                int64_t q = 0;
#if defined(__x86_64__) || defined(__i386__)
                if (avx2) q = nk_transpose_rows16_avx2(rows, ow, d);
#endif
                for (; q < ow; q++)
                    for (int64_t r = 0; r < 16; r++) d[q * 16 + r] = rows[r][q];
            }
    }
}
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) static void im2col_kpanels_avx2(const float *x, geom g, int64_t m, int64_t kp0, int64_t kp1,
                                                                float *scratch, float *pk) {
    im2col_kpanels(x, g, m, kp0, kp1, scratch, pk, 1);
}
#endif
void nk_im2col_kpanels_f32(const float *x, const int64_t *gp, int64_t m, int64_t kp0, int64_t kp1, float *scratch, float *pk) {
#if defined(__x86_64__) || defined(__i386__)
    if (nk_cpu_level() >= 1) { im2col_kpanels_avx2(x, geom_of(gp), m, kp0, kp1, scratch, pk); return; }
#endif
    im2col_kpanels(x, geom_of(gp), m, kp0, kp1, scratch, pk, 0);
}
int64_t nk_im2col_kpanels_scratch(const int64_t *gp) { return 17 * geom_of(gp).ow; }

#define DEFINE_COL2IM(SUFFIX, T)                                                                        \
    void nk_col2im_##SUFFIX(const T *cols, const int64_t *gp, T *x, int64_t plane0, int64_t plane1) {   \
        geom g = geom_of(gp);                                                                           \
        const int64_t kk = g.kh * g.kw;                                                                 \
        for (int64_t plane = plane0; plane < plane1; plane++) {                                         \
            T *outPlane = x + plane * g.h * g.w;                                                        \
            const int64_t n = plane / g.c, c = plane % g.c;                                             \
            for (int64_t i = 0; i < g.kh; i++)                                                          \
                for (int64_t j = 0; j < g.kw; j++) {                                                    \
                    const T *row = cols + n * g.ss + (c * kk + i * g.kw + j) * g.rs;                    \
                    const int64_t x0 = j * g.dw - g.pw;                                                 \
                    int64_t lo = 0, hi = 0;                                                             \
                    if (g.sw == 1) valid_range(x0, g.ow, g.w, &lo, &hi);                                \
                    for (int64_t oy = 0; oy < g.oh; oy++) {                                             \
                        const int64_t y = oy * g.sh - g.ph + i * g.dh;                                  \
                        if (y < 0 || y >= g.h) continue;                                                \
                        const T *src = row + oy * g.ow;                                                 \
                        T *dst = outPlane + y * g.w;                                                    \
                        if (g.sw == 1) {                                                                \
                            T *d = dst + x0;                                                            \
                            for (int64_t ox = lo; ox < hi; ox++) d[ox] += src[ox];                      \
                        } else {                                                                        \
                            for (int64_t ox = 0; ox < g.ow; ox++) {                                     \
                                const int64_t xx = ox * g.sw + x0;                                      \
                                if (xx >= 0 && xx < g.w) dst[xx] += src[ox];                            \
                            }                                                                           \
                        }                                                                               \
                    }                                                                                   \
                }                                                                                       \
        }                                                                                               \
    }

DEFINE_COL2IM(f32, float)
DEFINE_COL2IM(f64, double)

#if defined(__x86_64__) || defined(__i386__)
// col2im that sets the planes instead of adding to them, for stride 1 (AVX-512): each 16-wide
// run of an input row sums its taps' column entries in a register — in col2im's order (i, then j),
// from +0, so the sums are bit for bit those of clearing the plane and adding tap by tap — and
// is stored once. The per-tap loop reads and writes the plane kh·kw times, after a pass that
// clears it. A tap's entries for the run lie at one offset in its column row (masked where the
// run's columns fall outside the tap's output columns or past the row).
NK_AVX512 static void col2im_set_s1_avx512(const float *cols, geom g, float *x, int64_t plane0, int64_t plane1) {
    const int64_t kk = g.kh * g.kw;
    for (int64_t plane = plane0; plane < plane1; plane++) {
        float *out = x + plane * g.h * g.w;
        const float *base = cols + (plane / g.c) * g.ss + (plane % g.c) * kk * g.rs;
        /* four rows at a time where every tap has an output row for each (four chains of adds in
           flight instead of one; each sum still in col2im's order), the rows near the edges one by one */
        for (int64_t y = 0; y < g.h;) {
            const int four = y + 4 <= g.h && y + g.ph - (g.kh - 1) * g.dh >= 0 && y + 3 + g.ph < g.oh;
            for (int64_t x0 = 0; x0 < g.w; x0 += 16) {
                const __mmask16 live = nk_live_mask16(g.w - x0);
                __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
                for (int64_t i = 0; i < g.kh; i++) {
                    const int64_t oy = y + g.ph - i * g.dh;  /* the output row whose tap i reads input row y */
                    if (!four && (oy < 0 || oy >= g.oh)) continue;
                    for (int64_t j = 0; j < g.kw; j++) {
                        const int64_t o0 = x0 + g.pw - j * g.dw;  /* the output column of the run's first lane */
                        if (o0 >= g.ow || o0 + 16 <= 0) continue;
                        __mmask16 m = live & nk_live_mask16(g.ow - o0);
                        if (o0 < 0) m &= (__mmask16)(0xFFFFu << -o0);
                        const float *src = base + (i * g.kw + j) * g.rs + oy * g.ow + o0;
                        if (four)
                            for (int r = 0; r < 4; r++) acc[r] = _mm512_add_ps(acc[r], _mm512_maskz_loadu_ps(m, src + r * g.ow));
                        else
                            acc[0] = _mm512_add_ps(acc[0], _mm512_maskz_loadu_ps(m, src));
                    }
                }
                for (int r = 0; r < (four ? 4 : 1); r++) _mm512_mask_storeu_ps(out + (y + r) * g.w + x0, live, acc[r]);
            }
            y += four ? 4 : 1;
        }
    }
}
#endif

void nk_col2im_set_f32(const float *cols, const int64_t *gp, float *x, int64_t plane0, int64_t plane1) {
    geom g = geom_of(gp);
#if defined(__x86_64__) || defined(__i386__)
    if (g.sh == 1 && g.sw == 1 && nk_cpu_level() >= 2) { col2im_set_s1_avx512(cols, g, x, plane0, plane1); return; }
#endif
    if (plane1 > plane0) memset(x + plane0 * g.h * g.w, 0, (size_t)((plane1 - plane0) * g.h * g.w) * sizeof(float));
    nk_col2im_f32(cols, gp, x, plane0, plane1);
}
