// Layer normalisation over the last dimension, float32: y = (x − mean)·rstd·w + b per row, and its
// backward pass. The row statistics and the gradients' sums are accumulated in double, as the
// generic path of CPULayerNorm.swift does, but in 16 lanes (two vectors of 8 doubles) instead of
// one chain of dependent adds: a serial double add waits for the one before (~4 cycles an element),
// which made layer norm 12 % of the Transformer's training step. The lanes are summed in a fixed
// order, so a row's results do not depend on the thread that computes it. Compiled for AVX-512,
// AVX2+FMA and the baseline, chosen at run time.
#include "neurone_kernels.h"
#include <math.h>
#include <string.h>
#include "cpu_level.h"

typedef float f32x8 __attribute__((vector_size(32)));
typedef double f64x8 __attribute__((vector_size(64)));

#define LN_INLINE static inline __attribute__((always_inline))

// acc += p[0..8) widened to double; the vectors stay local (macros, not functions taking or
// returning 64-byte vectors, whose ABI differs between the builds).
#define LN_ADD_WIDE(acc, p)                                                                  \
    do {                                                                                     \
        f32x8 v_;                                                                            \
        memcpy(&v_, (p), sizeof v_);                                                         \
        (acc) += __builtin_convertvector(v_, f64x8);                                         \
    } while (0)
// The 16 lanes of a and b summed in a fixed order.
#define LN_HSUM(out, a, b)                                                                   \
    do {                                                                                     \
        f64x8 s_ = (a) + (b);                                                                \
        double t_ = 0;                                                                       \
        for (int i_ = 0; i_ < 8; i_++) t_ += s_[i_];                                         \
        (out) = t_;                                                                          \
    } while (0)

// Σ x[j] and, given mu, Σ (x[j] − mu)² over one row, in double.
LN_INLINE double ln_row_sum(const float *x, int64_t n) {
    f64x8 a = {0}, b = {0};
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) { LN_ADD_WIDE(a, x + j); LN_ADD_WIDE(b, x + j + 8); }
    double s;
    LN_HSUM(s, a, b);
    for (; j < n; j++) s += (double)x[j];
    return s;
}
LN_INLINE double ln_row_sq(const float *x, int64_t n, double mu) {
    f64x8 a = {0}, b = {0};
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        f64x8 d0 = {0}, d1 = {0};
        LN_ADD_WIDE(d0, x + j);
        LN_ADD_WIDE(d1, x + j + 8);
        d0 -= mu;
        d1 -= mu;
        a += d0 * d0;
        b += d1 * d1;
    }
    double s;
    LN_HSUM(s, a, b);
    for (; j < n; j++) { double d = (double)x[j] - mu; s += d * d; }
    return s;
}

LN_INLINE void ln_forward_body(int64_t r0, int64_t r1, int64_t cols, const float *x, const float *w, const float *b, double eps,
                               float *y, float *mean, float *rstd) {
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        const double mu = ln_row_sum(xr, cols) / (double)cols;
        const double rs = 1.0 / sqrt(ln_row_sq(xr, cols, mu) / (double)cols + eps);
        const float m = (float)mu, s = (float)rs;
        if (w && b) for (int64_t j = 0; j < cols; j++) yr[j] = (xr[j] - m) * s * w[j] + b[j];
        else if (w) for (int64_t j = 0; j < cols; j++) yr[j] = (xr[j] - m) * s * w[j];
        else if (b) for (int64_t j = 0; j < cols; j++) yr[j] = (xr[j] - m) * s + b[j];
        else for (int64_t j = 0; j < cols; j++) yr[j] = (xr[j] - m) * s;
        if (mean) mean[r] = m;
        if (rstd) rstd[r] = s;
    }
}

// dL/dx for rows [r0, r1): g = dy·w, x̂ = (x − mean)·rstd, dx = rstd·(g − mean(g) − x̂·mean(g·x̂)).
// has_w is a constant at each call (a test of w inside the loop becomes a masked load from w, and
// from NULL AMD CPUs run that load as a microcode assist).
LN_INLINE void ln_backward_rows_one(int64_t r0, int64_t r1, int64_t cols, const float *x, const float *w, int has_w,
                                    const float *mean, const float *rstd, const float *gy, float *gx) {
    float gbuf[32];
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = x + r * cols, *gr = gy + r * cols;
        float *dr = gx + r * cols;
        const float m = mean[r], s = rstd[r];
        f64x8 sg0 = {0}, sg1 = {0}, sx0 = {0}, sx1 = {0};
        int64_t j = 0;
        for (; j + 16 <= cols; j += 16) {
            for (int k = 0; k < 16; k++) {
                const float g = has_w ? gr[j + k] * w[j + k] : gr[j + k];
                gbuf[k] = g;
                gbuf[16 + k] = g * ((xr[j + k] - m) * s);
            }
            LN_ADD_WIDE(sg0, gbuf);
            LN_ADD_WIDE(sg1, gbuf + 8);
            LN_ADD_WIDE(sx0, gbuf + 16);
            LN_ADD_WIDE(sx1, gbuf + 24);
        }
        double sumG, sumGX;
        LN_HSUM(sumG, sg0, sg1);
        LN_HSUM(sumGX, sx0, sx1);
        for (; j < cols; j++) {
            const float g = has_w ? gr[j] * w[j] : gr[j];
            sumG += (double)g;
            sumGX += (double)(g * ((xr[j] - m) * s));
        }
        const float a = (float)(sumG / (double)cols), c = (float)(sumGX / (double)cols);
        for (int64_t k = 0; k < cols; k++) {
            const float g = has_w ? gr[k] * w[k] : gr[k], xh = (xr[k] - m) * s;
            dr[k] = s * (g - a - xh * c);
        }
    }
}
LN_INLINE void ln_backward_rows_body(int64_t r0, int64_t r1, int64_t cols, const float *x, const float *w, const float *mean,
                                     const float *rstd, const float *gy, float *gx) {
    if (w) ln_backward_rows_one(r0, r1, cols, x, w, 1, mean, rstd, gy, gx);
    else ln_backward_rows_one(r0, r1, cols, x, 0, 0, mean, rstd, gy, gx);
}

// dL/dw[j] = Σ_r dy·x̂ and dL/db[j] = Σ_r dy for columns [c0, c1), in double, 16 columns at a
// time held in registers over all rows (each column's sum in row order, as the generic path).
LN_INLINE void ln_backward_cols_body(int64_t rows, int64_t cols, int64_t c0, int64_t c1, const float *x, const float *mean,
                                     const float *rstd, const float *gy, float *gw, float *gb) {
    int64_t j = c0;
    for (; j + 16 <= c1; j += 16) {
        f64x8 w0 = {0}, w1 = {0}, b0 = {0}, b1 = {0};
        for (int64_t r = 0; r < rows; r++) {
            const float *xr = x + r * cols + j, *gr = gy + r * cols + j;
            const float m = mean[r], s = rstd[r];
            float prod[16];
            for (int k = 0; k < 16; k++) prod[k] = gr[k] * ((xr[k] - m) * s);
            LN_ADD_WIDE(w0, prod);
            LN_ADD_WIDE(w1, prod + 8);
            LN_ADD_WIDE(b0, gr);
            LN_ADD_WIDE(b1, gr + 8);
        }
        for (int k = 0; k < 8; k++) {
            if (gw) { gw[j + k] = (float)w0[k]; gw[j + 8 + k] = (float)w1[k]; }
            if (gb) { gb[j + k] = (float)b0[k]; gb[j + 8 + k] = (float)b1[k]; }
        }
    }
    for (; j < c1; j++) {
        double dw = 0, db = 0;
        for (int64_t r = 0; r < rows; r++) {
            const float dy = gy[r * cols + j];
            dw += (double)(dy * ((x[r * cols + j] - mean[r]) * rstd[r]));
            db += (double)dy;
        }
        if (gw) gw[j] = (float)dw;
        if (gb) gb[j] = (float)db;
    }
}

#define FWD_ARGS int64_t r0, int64_t r1, int64_t cols, const float *x, const float *w, const float *b, double eps, float *y, \
                 float *mean, float *rstd
#define FWD_PASS r0, r1, cols, x, w, b, eps, y, mean, rstd
#define ROWS_ARGS int64_t r0, int64_t r1, int64_t cols, const float *x, const float *w, const float *mean, const float *rstd, \
                  const float *gy, float *gx
#define ROWS_PASS r0, r1, cols, x, w, mean, rstd, gy, gx
#define COLS_ARGS int64_t rows, int64_t cols, int64_t c0, int64_t c1, const float *x, const float *mean, const float *rstd, \
                  const float *gy, float *gw, float *gb
#define COLS_PASS rows, cols, c0, c1, x, mean, rstd, gy, gw, gb

NK_LEVEL_VARIANTS(nk_layer_norm_f32, ln_forward_body, (FWD_ARGS), (FWD_PASS))
NK_LEVEL_VARIANTS(nk_layer_norm_backward_rows_f32, ln_backward_rows_body, (ROWS_ARGS), (ROWS_PASS))
NK_LEVEL_VARIANTS(nk_layer_norm_backward_cols_f32, ln_backward_cols_body, (COLS_ARGS), (COLS_PASS))
