// Scaled dot-product attention for one (sample, head) block, forward and backward, float32 and
// float64: P = softmax(scale·Q·Kᵀ + M), O = P·V, and the gradients of Q, K and V from dO and the
// saved P. Rows of Q, K, V, O (and their gradients) are D contiguous values at a row stride, so
// the heads of a [N, L, E] projection are read in place, with no permute or copy. The loops run
// over a contiguous innermost dim so that they vectorise; each is compiled for AVX-512, AVX2+FMA
// and the baseline and chosen at run time.
#include "neurone_kernels.h"
#include <math.h>
#include <string.h>
#include "cpu_level.h"
#include "nk_expf.h"

#pragma STDC FP_CONTRACT ON

#if defined(__x86_64__) || defined(__i386__)
#define NK_X86 1
#endif

// Helpers with fixed-width blocks so that accumulators stay in vector registers (a loop that
// adds into memory row by row is bound by its loads and stores). SP is S rounded up to 8.
#define ATTN_BODIES(T, EXP, SUFFIX)                                                                    \
/* out[d] = Σ_t coef[t·cs] · src[t·ss + d] for d < D; t is unrolled by two into separate       \
   accumulators so that independent FMA chains hide the FMA latency */                              \
static inline __attribute__((always_inline)) void lincomb_##SUFFIX(int64_t n, const T *coef, int64_t cs, \
    const T *src, int64_t ss, int64_t D, T *out) {                                                     \
    int64_t d0 = 0;                                                                                    \
    for (; d0 + 16 <= D; d0 += 16) {                                                                   \
        T a0[16] = {0}, a1[16] = {0};                                                                  \
        int64_t t = 0;                                                                                 \
        for (; t + 2 <= n; t += 2) {                                                                   \
            T c0 = coef[t * cs], c1 = coef[(t + 1) * cs];                                              \
            const T *r0 = src + t * ss + d0, *r1 = r0 + ss;                                            \
            for (int dd = 0; dd < 16; dd++) { a0[dd] += c0 * r0[dd]; a1[dd] += c1 * r1[dd]; }         \
        }                                                                                              \
        for (; t < n; t++) {                                                                           \
            T c0 = coef[t * cs]; const T *r0 = src + t * ss + d0;                                      \
            for (int dd = 0; dd < 16; dd++) a0[dd] += c0 * r0[dd];                                     \
        }                                                                                              \
        for (int dd = 0; dd < 16; dd++) out[d0 + dd] = a0[dd] + a1[dd];                                \
    }                                                                                                  \
    for (; d0 + 8 <= D; d0 += 8) {                                                                     \
        T a0[8] = {0}, a1[8] = {0};                                                                    \
        int64_t t = 0;                                                                                 \
        for (; t + 2 <= n; t += 2) {                                                                   \
            T c0 = coef[t * cs], c1 = coef[(t + 1) * cs];                                              \
            const T *r0 = src + t * ss + d0, *r1 = r0 + ss;                                            \
            for (int dd = 0; dd < 8; dd++) { a0[dd] += c0 * r0[dd]; a1[dd] += c1 * r1[dd]; }          \
        }                                                                                              \
        for (; t < n; t++) {                                                                           \
            T c0 = coef[t * cs]; const T *r0 = src + t * ss + d0;                                      \
            for (int dd = 0; dd < 8; dd++) a0[dd] += c0 * r0[dd];                                      \
        }                                                                                              \
        for (int dd = 0; dd < 8; dd++) out[d0 + dd] = a0[dd] + a1[dd];                                 \
    }                                                                                                  \
    for (; d0 < D; d0++) {                                                                             \
        T acc = 0;                                                                                     \
        for (int64_t t = 0; t < n; t++) acc += coef[t * cs] * src[t * ss + d0];                        \
        out[d0] = acc;                                                                                 \
    }                                                                                                  \
}                                                                                                      \
/* out[j] = scale · Σ_d x[d] · mt[d·SP + j] for j < SP (SP a multiple of 8), 32 columns at a time  \
   (four independent accumulators), then 8 */                                                      \
static inline __attribute__((always_inline)) void rowtimes_##SUFFIX(int64_t D, const T *x, T scale,   \
    const T *mt, int64_t SP, T *out) {                                                                 \
    int64_t j0 = 0;                                                                                    \
    for (; j0 + 32 <= SP; j0 += 32) {                                                                  \
        T acc[32] = {0};                                                                               \
        for (int64_t d = 0; d < D; d++) {                                                              \
            T a = x[d] * scale; const T *r = mt + d * SP + j0;                                         \
            for (int jj = 0; jj < 32; jj++) acc[jj] += a * r[jj];                                      \
        }                                                                                              \
        for (int jj = 0; jj < 32; jj++) out[j0 + jj] = acc[jj];                                        \
    }                                                                                                  \
    for (; j0 < SP; j0 += 8) {                                                                         \
        T acc[8] = {0};                                                                                \
        for (int64_t d = 0; d < D; d++) {                                                              \
            T a = x[d] * scale; const T *r = mt + d * SP + j0;                                         \
            for (int jj = 0; jj < 8; jj++) acc[jj] += a * r[jj];                                       \
        }                                                                                              \
        for (int jj = 0; jj < 8; jj++) out[j0 + jj] = acc[jj];                                         \
    }                                                                                                  \
}                                                                                                      \
/* two rows of rowtimes at once: every load of mt feeds two FMAs */                                    \
static inline __attribute__((always_inline)) void rowtimes2_##SUFFIX(int64_t D, const T *x0, const T *x1,\
    T scale, const T *mt, int64_t SP, T *out0, T *out1) {                                              \
    int64_t j0 = 0;                                                                                    \
    for (; j0 + 32 <= SP; j0 += 32) {                                                                  \
        T c0[32] = {0}, c1[32] = {0};                                                                  \
        for (int64_t d = 0; d < D; d++) {                                                              \
            T a0 = x0[d] * scale, a1 = x1[d] * scale; const T *r = mt + d * SP + j0;                   \
            for (int jj = 0; jj < 32; jj++) { c0[jj] += a0 * r[jj]; c1[jj] += a1 * r[jj]; }            \
        }                                                                                              \
        for (int jj = 0; jj < 32; jj++) { out0[j0 + jj] = c0[jj]; out1[j0 + jj] = c1[jj]; }            \
    }                                                                                                  \
    for (; j0 < SP; j0 += 8) {                                                                         \
        T c0[8] = {0}, c1[8] = {0};                                                                    \
        for (int64_t d = 0; d < D; d++) {                                                              \
            T a0 = x0[d] * scale, a1 = x1[d] * scale; const T *r = mt + d * SP + j0;                   \
            for (int jj = 0; jj < 8; jj++) { c0[jj] += a0 * r[jj]; c1[jj] += a1 * r[jj]; }             \
        }                                                                                              \
        for (int jj = 0; jj < 8; jj++) { out0[j0 + jj] = c0[jj]; out1[j0 + jj] = c1[jj]; }             \
    }                                                                                                  \
}                                                                                                      \
/* two rows of lincomb at once (coefficient rows c0, c1): every load of src feeds two FMAs */          \
static inline __attribute__((always_inline)) void lincomb2_##SUFFIX(int64_t n, const T *k0, const T *k1,\
    int64_t cs, const T *src, int64_t ss, int64_t D, T *out0, T *out1) {                               \
    int64_t d0 = 0;                                                                                    \
    for (; d0 + 16 <= D; d0 += 16) {                                                                   \
        T a0[16] = {0}, a1[16] = {0}, b0[16] = {0}, b1[16] = {0};                                      \
        int64_t t = 0;                                                                                 \
        for (; t + 2 <= n; t += 2) {                                                                   \
            T p0 = k0[t * cs], p1 = k0[(t + 1) * cs], q0 = k1[t * cs], q1 = k1[(t + 1) * cs];          \
            const T *r0 = src + t * ss + d0, *r1 = r0 + ss;                                            \
            for (int dd = 0; dd < 16; dd++) {                                                          \
                a0[dd] += p0 * r0[dd]; a1[dd] += p1 * r1[dd]; b0[dd] += q0 * r0[dd]; b1[dd] += q1 * r1[dd];\
            }                                                                                          \
        }                                                                                              \
        for (; t < n; t++) {                                                                           \
            T p0 = k0[t * cs], q0 = k1[t * cs]; const T *r0 = src + t * ss + d0;                       \
            for (int dd = 0; dd < 16; dd++) { a0[dd] += p0 * r0[dd]; b0[dd] += q0 * r0[dd]; }          \
        }                                                                                              \
        for (int dd = 0; dd < 16; dd++) { out0[d0 + dd] = a0[dd] + a1[dd]; out1[d0 + dd] = b0[dd] + b1[dd]; }\
    }                                                                                                  \
    if (d0 < D) {                                                                                      \
        lincomb_##SUFFIX(n, k0, cs, src + d0, ss, D - d0, out0 + d0);                                  \
        lincomb_##SUFFIX(n, k1, cs, src + d0, ss, D - d0, out1 + d0);                                  \
    }                                                                                                  \
}                                                                                                      \
/* mt[d·SP + j] = m[j·ms + d], zero for S ≤ j < SP */                                                  \
static inline __attribute__((always_inline)) void transpose_##SUFFIX(int64_t S, int64_t D, const T *m, \
    int64_t ms, int64_t SP, T *mt) {                                                                   \
    for (int64_t d = 0; d < D; d++) for (int64_t j = S; j < SP; j++) mt[d * SP + j] = 0;               \
    for (int64_t j = 0; j < S; j++)                                                                    \
        for (int64_t d = 0; d < D; d++) mt[d * SP + j] = m[j * ms + d];                                \
}                                                                                                      \
static inline __attribute__((always_inline)) void attn_fwd_body_##SUFFIX(                             \
    int64_t L, int64_t S, int64_t D, T scale, const T *q, int64_t qs, const T *k, int64_t ks,         \
    const T *v, int64_t vs, const T *mask, T *p, T *o, int64_t os, T *work) {                          \
    int64_t SP = (S + 7) & ~(int64_t)7;                                                                \
    T *kt = work, *sc = work + D * SP; /* Kᵀ [D, SP], scores [L, SP] */                                \
    transpose_##SUFFIX(S, D, k, ks, SP, kt);                                                           \
    int64_t i2 = 0;                                                                                    \
    for (; i2 + 2 <= L; i2 += 2) rowtimes2_##SUFFIX(D, q + i2 * qs, q + (i2 + 1) * qs, scale, kt, SP, sc + i2 * SP, sc + (i2 + 1) * SP);\
    if (i2 < L) rowtimes_##SUFFIX(D, q + i2 * qs, scale, kt, SP, sc + i2 * SP);                        \
    for (int64_t i = 0; i < L; i++) {                                                                  \
        T *srow = sc + i * SP;                                                                         \
        if (mask) { const T *mr = mask + i * S; for (int64_t j = 0; j < S; j++) srow[j] += mr[j]; }    \
        for (int64_t j = S; j < SP; j++) srow[j] = -INFINITY; /* padding: exp gives 0 */               \
        /* the row max in 8 lanes (one scalar chain would be latency-bound), subtracted */             \
        T m8[8];                                                                                       \
        for (int jj = 0; jj < 8; jj++) m8[jj] = srow[jj];                                              \
        for (int64_t j = 8; j < SP; j += 8)                                                            \
            for (int jj = 0; jj < 8; jj++) m8[jj] = srow[j + jj] > m8[jj] ? srow[j + jj] : m8[jj];     \
        T mx = m8[0];                                                                                  \
        for (int jj = 1; jj < 8; jj++) mx = m8[jj] > mx ? m8[jj] : mx;                                 \
        if (mx == -INFINITY) mx = 0; /* a fully masked row gives NaN below, as in PyTorch */           \
        for (int64_t j = 0; j < SP; j++) srow[j] -= mx;                                                \
    }                                                                                                  \
    /* exp of every score in one long loop: its vector iterations overlap */                           \
    for (int64_t j = 0; j < L * SP; j++) sc[j] = EXP(sc[j]);                                           \
    for (int64_t i = 0; i < L; i++) {                                                                  \
        T *srow = sc + i * SP, s8[8] = {0};                                                            \
        for (int64_t j = 0; j < SP; j += 8)                                                            \
            for (int jj = 0; jj < 8; jj++) s8[jj] += srow[j + jj];                                     \
        T sum = ((s8[0] + s8[1]) + (s8[2] + s8[3])) + ((s8[4] + s8[5]) + (s8[6] + s8[7]));             \
        T inv = (T)1 / sum, *row = p + i * S;                                                          \
        for (int64_t j = 0; j < S; j++) row[j] = srow[j] * inv;                                        \
    }                                                                                                  \
    for (i2 = 0; i2 + 2 <= L; i2 += 2) lincomb2_##SUFFIX(S, p + i2 * S, p + (i2 + 1) * S, 1, v, vs, D, o + i2 * os, o + (i2 + 1) * os);\
    if (i2 < L) lincomb_##SUFFIX(S, p + i2 * S, 1, v, vs, D, o + i2 * os);                             \
}                                                                                                      \
static inline __attribute__((always_inline)) void attn_bwd_body_##SUFFIX(                             \
    int64_t L, int64_t S, int64_t D, T scale, const T *q, int64_t qs, const T *k, int64_t ks,         \
    const T *v, int64_t vs, const T *p, const T *go, int64_t gos,                                      \
    T *gq, int64_t gqs, T *gk, int64_t gks, T *gv, int64_t gvs, T *work) {                             \
    int64_t SP = (S + 7) & ~(int64_t)7;                                                                \
    T *vt = work, *ds = work + D * SP; /* Vᵀ [D, SP], dS [L, SP] */                                    \
    transpose_##SUFFIX(S, D, v, vs, SP, vt);                                                           \
    /* dP = dO·Vᵀ, two rows at a time, into dS */                                                      \
    int64_t i2 = 0;                                                                                    \
    for (; i2 + 2 <= L; i2 += 2) rowtimes2_##SUFFIX(D, go + i2 * gos, go + (i2 + 1) * gos, 1, vt, SP, ds + i2 * SP, ds + (i2 + 1) * SP);\
    if (i2 < L) rowtimes_##SUFFIX(D, go + i2 * gos, 1, vt, SP, ds + i2 * SP);                          \
    for (int64_t i = 0; i < L; i++) {                                                                  \
        /* dS[i] = P[i] ⊙ (dP[i] − P[i]·dP[i]) · scale */                                              \
        const T *prow = p + i * S; T *dsr = ds + i * SP;                                               \
        T d8[8] = {0}, dot = 0;                                                                        \
        int64_t j8 = 0;                                                                                \
        for (; j8 + 8 <= S; j8 += 8)                                                                   \
            for (int jj = 0; jj < 8; jj++) d8[jj] += prow[j8 + jj] * dsr[j8 + jj];                     \
        for (; j8 < S; j8++) dot += prow[j8] * dsr[j8];                                                \
        dot += ((d8[0] + d8[1]) + (d8[2] + d8[3])) + ((d8[4] + d8[5]) + (d8[6] + d8[7]));              \
        for (int64_t j = 0; j < S; j++) dsr[j] = prow[j] * (dsr[j] - dot) * scale;                     \
    }                                                                                                  \
    /* dQ[i] = dS[i]·K */                                                                              \
    for (i2 = 0; i2 + 2 <= L; i2 += 2) lincomb2_##SUFFIX(S, ds + i2 * SP, ds + (i2 + 1) * SP, 1, k, ks, D, gq + i2 * gqs, gq + (i2 + 1) * gqs);\
    if (i2 < L) lincomb_##SUFFIX(S, ds + i2 * SP, 1, k, ks, D, gq + i2 * gqs);                         \
    /* dV[j] = Σ_i P[i][j]·dO[i];  dK[j] = Σ_i dS[i][j]·Q[i]: columns of P and dS, two at a time */    \
    int64_t j2 = 0;                                                                                    \
    for (; j2 + 2 <= S; j2 += 2) {                                                                     \
        lincomb2_##SUFFIX(L, p + j2, p + j2 + 1, S, go, gos, D, gv + j2 * gvs, gv + (j2 + 1) * gvs);   \
        lincomb2_##SUFFIX(L, ds + j2, ds + j2 + 1, SP, q, qs, D, gk + j2 * gks, gk + (j2 + 1) * gks);  \
    }                                                                                                  \
    if (j2 < S) {                                                                                      \
        lincomb_##SUFFIX(L, p + j2, S, go, gos, D, gv + j2 * gvs);                                     \
        lincomb_##SUFFIX(L, ds + j2, SP, q, qs, D, gk + j2 * gks);                                     \
    }                                                                                                  \
}                                                                                                      \

static inline __attribute__((always_inline)) double nk_exp_double(double x) { return exp(x); }
ATTN_BODIES(float, nk_expf_nonpos, f32)
ATTN_BODIES(double, nk_exp_double, f64)

#define FWD_ARGS int64_t L, int64_t S, int64_t D, T scale, const T *q, int64_t qs, const T *k, int64_t ks, \
                 const T *v, int64_t vs, const T *mask, T *p, T *o, int64_t os, T *work
#define FWD_CALL L, S, D, scale, q, qs, k, ks, v, vs, mask, p, o, os, work
#define BWD_ARGS int64_t L, int64_t S, int64_t D, T scale, const T *q, int64_t qs, const T *k, int64_t ks, \
                 const T *v, int64_t vs, const T *p, const T *go, int64_t gos,                               \
                 T *gq, int64_t gqs, T *gk, int64_t gks, T *gv, int64_t gvs, T *work
#define BWD_CALL L, S, D, scale, q, qs, k, ks, v, vs, p, go, gos, gq, gqs, gk, gks, gv, gvs, work

#define ATTN_VARIANTS(SUFFIX)                                                                          \
    __attribute__((target("avx512f,avx512dq,avx2,fma"))) static void attn_fwd_##SUFFIX##_avx512(FWD_ARGS) { attn_fwd_body_##SUFFIX(FWD_CALL); } \
    __attribute__((target("avx2,fma"))) static void attn_fwd_##SUFFIX##_avx2(FWD_ARGS) { attn_fwd_body_##SUFFIX(FWD_CALL); } \
    __attribute__((target("avx512f,avx512dq,avx2,fma"))) static void attn_bwd_##SUFFIX##_avx512(BWD_ARGS) { attn_bwd_body_##SUFFIX(BWD_CALL); } \
    __attribute__((target("avx2,fma"))) static void attn_bwd_##SUFFIX##_avx2(BWD_ARGS) { attn_bwd_body_##SUFFIX(BWD_CALL); }

#define ATTN_EXPORTS(SUFFIX)                                                                           \
    void nk_attention_fwd_##SUFFIX(FWD_ARGS) {                                                         \
        DISPATCH(attn_fwd_##SUFFIX, FWD_CALL);                                                         \
        attn_fwd_body_##SUFFIX(FWD_CALL);                                                              \
    }                                                                                                  \
    void nk_attention_bwd_##SUFFIX(BWD_ARGS) {                                                         \
        DISPATCH(attn_bwd_##SUFFIX, BWD_CALL);                                                         \
        attn_bwd_body_##SUFFIX(BWD_CALL);                                                              \
    }

#ifdef NK_X86
#define DISPATCH(NAME, ...)                                                                            \
    do {                                                                                               \
        int level = nk_cpu_level();                                                                    \
        if (level == 2) { NAME##_avx512(__VA_ARGS__); return; }                                        \
        if (level == 1) { NAME##_avx2(__VA_ARGS__); return; }                                          \
    } while (0)
#define T float
ATTN_VARIANTS(f32)
#undef T
#define T double
ATTN_VARIANTS(f64)
#undef T
#else
#define DISPATCH(NAME, ...) do { } while (0)
#endif

#define T float
ATTN_EXPORTS(f32)
#undef T
#define T double
ATTN_EXPORTS(f64)
#undef T
