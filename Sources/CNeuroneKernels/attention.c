// Scaled dot-product attention for one (sample, head) block, forward and backward, float32 and
// float64: P = softmax(scale·Q·Kᵀ + M), O = P·V, and the gradients of Q, K and V from dO and the
// saved P. With dropout, `drop` [L, S] holds the multipliers (0 or 1/(1 − p)) and O = (P ⊙ drop)·V:
// P is kept whole, the backward pass takes dP ⊙ drop as P's gradient and (P ⊙ drop)ᵀ·dO as dV. Rows of Q, K, V, O (and their gradients) are D contiguous values at a row stride, so
// the heads of a [N, L, E] projection are read in place, with no permute or copy. The loops run
// over a contiguous innermost dim so that they vectorise; each is compiled for AVX-512, AVX2+FMA
// and the baseline and chosen at run time.
#include "neurone_kernels.h"
#include <math.h>
#include <string.h>
#include "cpu_level.h"
#include "nk_avx2.h"
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
    const T *v, int64_t vs, const T *mask, const T *drop, T *p, T *o, int64_t os, T *work) {           \
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
        /* dropout: the dropped probabilities P ⊙ drop in the scores' row, for O only */               \
        if (drop) { const T *dr = drop + i * S; for (int64_t j = 0; j < S; j++) srow[j] = row[j] * dr[j]; } \
    }                                                                                                  \
    const T *pc = drop ? sc : p; const int64_t pcs = drop ? SP : S;                                    \
    for (i2 = 0; i2 + 2 <= L; i2 += 2) lincomb2_##SUFFIX(S, pc + i2 * pcs, pc + (i2 + 1) * pcs, 1, v, vs, D, o + i2 * os, o + (i2 + 1) * os);\
    if (i2 < L) lincomb_##SUFFIX(S, pc + i2 * pcs, 1, v, vs, D, o + i2 * os);                          \
}                                                                                                      \
static inline __attribute__((always_inline)) void attn_bwd_body_##SUFFIX(                             \
    int64_t L, int64_t S, int64_t D, T scale, const T *q, int64_t qs, const T *k, int64_t ks,         \
    const T *v, int64_t vs, const T *p, const T *drop, const T *go, int64_t gos,                       \
    T *gq, int64_t gqs, T *gk, int64_t gks, T *gv, int64_t gvs, T *work) {                             \
    int64_t SP = (S + 7) & ~(int64_t)7;                                                                \
    T *vt = work, *ds = work + D * SP, *pd = ds + L * SP; /* Vᵀ [D, SP], dS [L, SP], P ⊙ drop [L, SP] */ \
    transpose_##SUFFIX(S, D, v, vs, SP, vt);                                                           \
    /* dP = dO·Vᵀ, two rows at a time, into dS */                                                      \
    int64_t i2 = 0;                                                                                    \
    for (; i2 + 2 <= L; i2 += 2) rowtimes2_##SUFFIX(D, go + i2 * gos, go + (i2 + 1) * gos, 1, vt, SP, ds + i2 * SP, ds + (i2 + 1) * SP);\
    if (i2 < L) rowtimes_##SUFFIX(D, go + i2 * gos, 1, vt, SP, ds + i2 * SP);                          \
    for (int64_t i = 0; i < L; i++) {                                                                  \
        /* dS[i] = P[i] ⊙ (dP[i] − P[i]·dP[i]) · scale */                                              \
        const T *prow = p + i * S; T *dsr = ds + i * SP;                                               \
        /* dropout: O took P ⊙ drop, so dP ⊙ drop is the gradient of P, and P ⊙ drop gives dV */      \
        if (drop) {                                                                                    \
            const T *dr = drop + i * S; T *pdr = pd + i * SP;                                          \
            for (int64_t j = 0; j < S; j++) { pdr[j] = prow[j] * dr[j]; dsr[j] *= dr[j]; }             \
        }                                                                                              \
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
    const T *pc = drop ? pd : p; const int64_t pcs = drop ? SP : S;                                    \
    int64_t j2 = 0;                                                                                    \
    for (; j2 + 2 <= S; j2 += 2) {                                                                     \
        lincomb2_##SUFFIX(L, pc + j2, pc + j2 + 1, pcs, go, gos, D, gv + j2 * gvs, gv + (j2 + 1) * gvs); \
        lincomb2_##SUFFIX(L, ds + j2, ds + j2 + 1, SP, q, qs, D, gk + j2 * gks, gk + (j2 + 1) * gks);  \
    }                                                                                                  \
    if (j2 < S) {                                                                                      \
        lincomb_##SUFFIX(L, pc + j2, pcs, go, gos, D, gv + j2 * gvs);                                  \
        lincomb_##SUFFIX(L, ds + j2, SP, q, qs, D, gk + j2 * gks);                                     \
    }                                                                                                  \
}                                                                                                      \

static inline __attribute__((always_inline)) double nk_exp_double(double x) { return exp(x); }
ATTN_BODIES(float, nk_expf_nonpos, f32)
ATTN_BODIES(double, nk_exp_double, f64)

#define FWD_ARGS int64_t L, int64_t S, int64_t D, T scale, const T *q, int64_t qs, const T *k, int64_t ks, \
                 const T *v, int64_t vs, const T *mask, const T *drop, T *p, T *o, int64_t os, T *work
#define FWD_CALL L, S, D, scale, q, qs, k, ks, v, vs, mask, drop, p, o, os, work
#define BWD_ARGS int64_t L, int64_t S, int64_t D, T scale, const T *q, int64_t qs, const T *k, int64_t ks, \
                 const T *v, int64_t vs, const T *p, const T *drop, const T *go, int64_t gos,                \
                 T *gq, int64_t gqs, T *gk, int64_t gks, T *gv, int64_t gvs, T *work
#define BWD_CALL L, S, D, scale, q, qs, k, ks, v, vs, p, drop, go, gos, gq, gqs, gk, gks, gv, gvs, work

#define ATTN_VARIANTS(SUFFIX)                                                                          \
    __attribute__((target("avx512f,avx512dq,avx2,fma"))) static void attn_fwd_##SUFFIX##_avx512(FWD_ARGS) { attn_fwd_body_##SUFFIX(FWD_CALL); } \
    __attribute__((target("avx2,fma"))) static void attn_fwd_##SUFFIX##_avx2(FWD_ARGS) { attn_fwd_body_##SUFFIX(FWD_CALL); } \
    __attribute__((target("avx512f,avx512dq,avx2,fma"))) static void attn_bwd_##SUFFIX##_avx512(BWD_ARGS) { attn_bwd_body_##SUFFIX(BWD_CALL); } \
    __attribute__((target("avx2,fma"))) static void attn_bwd_##SUFFIX##_avx2(BWD_ARGS) { attn_bwd_body_##SUFFIX(BWD_CALL); }

#define ATTN_EXPORTS(SUFFIX)                                                                           \
    void nk_attention_fwd_##SUFFIX(FWD_ARGS) {                                                         \
        SHORT_FWD_##SUFFIX;                                                                            \
        if (!p) p = work + (D + L) * ((S + 7) & ~(int64_t)7); /* probabilities not wanted: scratch */  \
        DISPATCH(attn_fwd_##SUFFIX, FWD_CALL);                                                         \
        attn_fwd_body_##SUFFIX(FWD_CALL);                                                              \
    }                                                                                                  \
    void nk_attention_bwd_##SUFFIX(BWD_ARGS) {                                                         \
        SHORT_BWD_##SUFFIX;                                                                            \
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


#ifdef NK_X86
// The float32 forward for short key sequences (S ≤ 32) and head widths D = 8, 16, 24 or 32,
// written with AVX2 intrinsics so that everything stays in registers: Kᵀ is built once with 8×8
// register transposes; then for each pair of query rows the scores (NV = ⌈S/8⌉ vectors per row)
// are accumulated over D, scaled, masked, their maximum subtracted and exponentiated without
// leaving registers; O = (e·V)/Σe normalises the D outputs instead of the S probabilities, and
// P is stored only when p is not NULL. The generic loops above pass scores through memory five
// times; this is about twice as fast on the 28-token, D = 16 blocks of the attention model.

NK_AVX2_INLINE float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}
NK_AVX2_INLINE float hsum8(__m256 v) {
    __m128 m = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_add_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_add_ss(m, _mm_movehdup_ps(m)));
}
/* kt[d·SP + j] = k[j·ks + d] for d < D (a multiple of 8), zero for S ≤ j < SP: 8×8 blocks */
NK_AVX2_INLINE void transpose_k8(int64_t S, int64_t D, const float *k, int64_t ks, int64_t SP, float *kt) {
    for (int64_t j0 = 0; j0 < SP; j0 += 8)
        for (int64_t d0 = 0; d0 < D; d0 += 8) {
            __m256 r[8];
            for (int a = 0; a < 8; a++) r[a] = j0 + a < S ? _mm256_loadu_ps(k + (j0 + a) * ks + d0) : _mm256_setzero_ps();
            nk_transpose8x8_store(r, kt + d0 * SP + j0, SP);
        }
}
/* Vector c of a row of S values in NV vectors: the last one loads only its live lanes (0 past S) */
NK_AVX2_INLINE __m256 row_vec8(const float *row, int c, int NV, __m256i live) {
    return c == NV - 1 ? _mm256_maskload_ps(row + 8 * c, live) : _mm256_loadu_ps(row + 8 * c);
}
/* The polynomial of exp2_nonpos8 and exp2_nonpos16: 2^r ≈ 1 + r·(C1 + r·(C2 + … + r·C6)), |r| ≤ ½ */
#define NK_EXP2_C1 6.931472028550421E-1f
#define NK_EXP2_C2 2.402264791363012E-1f
#define NK_EXP2_C3 5.550332471162809E-2f
#define NK_EXP2_C4 9.618437357674640E-3f
#define NK_EXP2_C5 1.339887440266574E-3f
#define NK_EXP2_C6 1.535336188319500E-4f
/* 2^x for x ≤ 0 on eight lanes (Cephes exp2f: 2^x = 2^n · (1 + r·P(r)), n = round(x), |r| ≤ ½;
   relative error ≤ 1e-7); 0 below −125 (and for −inf), NaN stays NaN. 14 instructions, against
   20 for e^x with its two-part ln 2 reduction: the softmax below works in base 2 throughout. */
NK_AVX2_INLINE __m256 exp2_nonpos8(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-125.0f);
    __m256 v = _mm256_max_ps(lo, x); /* max(lo, NaN) is NaN */
    __m256 n = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_sub_ps(v, n);
    __m256 p = _mm256_set1_ps(NK_EXP2_C6);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(NK_EXP2_C5));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(NK_EXP2_C4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(NK_EXP2_C3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(NK_EXP2_C2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(NK_EXP2_C1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    /* p ∈ [2^-½, 2^½]: adding n to its exponent field multiplies by 2^n and stays normal for n ≥ −125 */
    __m256i b = _mm256_add_epi32(_mm256_castps_si256(p), _mm256_slli_epi32(_mm256_cvttps_epi32(n), 23));
    return _mm256_andnot_ps(_mm256_cmp_ps(x, lo, _CMP_LT_OQ), _mm256_castsi256_ps(b));
}
/* Softmax numerators of query rows q0, q1 into e0, e1 (NV·8 values each, 0 past S) and the
   reciprocals of their sums into inv[0], inv[1]; probability rows p0, p1 too unless NULL. m0, m1:
   mask rows padded to NV·8 values, or NULL. d0, d1: dropout rows (S values) or NULL; the numerators
   stored are then multiplied by them, while the sums and p0, p1 stay undropped. pad: the lanes of
   the last score vector at or past S.
   Scores are kept as log2 values, scale·log2(e)·q·k + log2(e)·mask, so that exp is exp2. */
NK_AVX2_INLINE void attn_softmax2_avx2(const int NV, const int DV, float scale, const float *q0, const float *q1,
    const float *kt, const float *m0, const float *m1, const float *d0, const float *d1, __m256 pad, __m256i live,
    float *p0, float *p1, float *e0, float *e1, float *inv) {
    __m256 s0[4], s1[4];
    for (int c = 0; c < NV; c++) s0[c] = s1[c] = _mm256_setzero_ps();
    for (int d = 0; d < 8 * DV; d++) {
        __m256 a0 = _mm256_broadcast_ss(q0 + d), a1 = _mm256_broadcast_ss(q1 + d);
        const float *r = kt + d * NV * 8;
        for (int c = 0; c < NV; c++) {
            __m256 kv = _mm256_loadu_ps(r + 8 * c);
            s0[c] = _mm256_fmadd_ps(a0, kv, s0[c]);
            s1[c] = _mm256_fmadd_ps(a1, kv, s1[c]);
        }
    }
    const __m256 log2e = _mm256_set1_ps(NK_LOG2E), sc = _mm256_set1_ps(scale * NK_LOG2E), ninf = _mm256_set1_ps(-INFINITY);
    for (int c = 0; c < NV; c++) {
        s0[c] = _mm256_mul_ps(s0[c], sc);
        s1[c] = _mm256_mul_ps(s1[c], sc);
        if (m0) { s0[c] = _mm256_fmadd_ps(_mm256_loadu_ps(m0 + 8 * c), log2e, s0[c]); s1[c] = _mm256_fmadd_ps(_mm256_loadu_ps(m1 + 8 * c), log2e, s1[c]); }
    }
    s0[NV - 1] = _mm256_blendv_ps(s0[NV - 1], ninf, pad); /* padding: exp gives 0 */
    s1[NV - 1] = _mm256_blendv_ps(s1[NV - 1], ninf, pad);
    __m256 x0 = s0[0], x1 = s1[0];
    for (int c = 1; c < NV; c++) { x0 = _mm256_max_ps(x0, s0[c]); x1 = _mm256_max_ps(x1, s1[c]); }
    float mx0 = hmax8(x0), mx1 = hmax8(x1);
    if (mx0 == -INFINITY) mx0 = 0; /* a fully masked row gives NaN below, as in PyTorch */
    if (mx1 == -INFINITY) mx1 = 0;
    const __m256 b0 = _mm256_set1_ps(mx0), b1 = _mm256_set1_ps(mx1);
    __m256 t0 = _mm256_setzero_ps(), t1 = _mm256_setzero_ps();
    for (int c = 0; c < NV; c++) {
        s0[c] = exp2_nonpos8(_mm256_sub_ps(s0[c], b0));
        t0 = _mm256_add_ps(t0, s0[c]);
        s1[c] = exp2_nonpos8(_mm256_sub_ps(s1[c], b1));
        t1 = _mm256_add_ps(t1, s1[c]);
        if (d0) { /* dropout: O takes the numerators ⊙ drop; P and the sums stay whole */
            const __m256 x0 = row_vec8(d0, c, NV, live), x1 = row_vec8(d1, c, NV, live);
            _mm256_storeu_ps(e0 + 8 * c, _mm256_mul_ps(s0[c], x0));
            _mm256_storeu_ps(e1 + 8 * c, _mm256_mul_ps(s1[c], x1));
        } else {
            _mm256_storeu_ps(e0 + 8 * c, s0[c]);
            _mm256_storeu_ps(e1 + 8 * c, s1[c]);
        }
    }
    const float r0 = 1.0f / hsum8(t0), r1 = 1.0f / hsum8(t1);
    inv[0] = r0; inv[1] = r1;
    if (p0) {
        const __m256 i0 = _mm256_set1_ps(r0), i1 = _mm256_set1_ps(r1);
        for (int c = 0; c + 1 < NV; c++) {
            _mm256_storeu_ps(p0 + 8 * c, _mm256_mul_ps(s0[c], i0));
            _mm256_storeu_ps(p1 + 8 * c, _mm256_mul_ps(s1[c], i1));
        }
        _mm256_maskstore_ps(p0 + 8 * (NV - 1), live, _mm256_mul_ps(s0[NV - 1], i0));
        _mm256_maskstore_ps(p1 + 8 * (NV - 1), live, _mm256_mul_ps(s1[NV - 1], i1));
    }
}
/* Output rows o0 = inv0·Σ_t c0[t·cs]·src[t] and o1 likewise, t < n (rows of src at stride ss, DV
   vectors wide; coefficients at stride cs: rows of numerators, or columns of a row-major matrix);
   for DV ≤ 3, two source rows per step into separate accumulators (independent FMA chains). */
NK_AVX2_INLINE void attn_comb2_avx2(const int DV, int64_t n, const float *c0, const float *c1, int64_t cs,
    float inv0, float inv1, const float *src, int64_t ss, float *o0, float *o1) {
    __m256 a0[4], a1[4], b0[4], b1[4];
    for (int c = 0; c < DV; c++) a0[c] = a1[c] = b0[c] = b1[c] = _mm256_setzero_ps();
    int64_t t = 0;
    /* DV = 4: 8 chains already, and a second set of 8 accumulators spilled (1.47× faster
       backward at D = 32 without it; D = 24 is 2 % faster with it) */
    if (DV <= 3) for (; t + 2 <= n; t += 2) {
        const __m256 w0 = _mm256_broadcast_ss(c0 + t * cs), w1 = _mm256_broadcast_ss(c1 + t * cs);
        const __m256 u0 = _mm256_broadcast_ss(c0 + (t + 1) * cs), u1 = _mm256_broadcast_ss(c1 + (t + 1) * cs);
        const float *r0 = src + t * ss, *r1 = r0 + ss;
        for (int c = 0; c < DV; c++) {
            __m256 x = _mm256_loadu_ps(r0 + 8 * c), y = _mm256_loadu_ps(r1 + 8 * c);
            a0[c] = _mm256_fmadd_ps(w0, x, a0[c]); a1[c] = _mm256_fmadd_ps(w1, x, a1[c]);
            b0[c] = _mm256_fmadd_ps(u0, y, b0[c]); b1[c] = _mm256_fmadd_ps(u1, y, b1[c]);
        }
    }
    for (; t < n; t++) {
        const __m256 w0 = _mm256_broadcast_ss(c0 + t * cs), w1 = _mm256_broadcast_ss(c1 + t * cs);
        const float *r0 = src + t * ss;
        for (int c = 0; c < DV; c++) {
            __m256 x = _mm256_loadu_ps(r0 + 8 * c);
            a0[c] = _mm256_fmadd_ps(w0, x, a0[c]); a1[c] = _mm256_fmadd_ps(w1, x, a1[c]);
        }
    }
    const __m256 i0 = _mm256_set1_ps(inv0), i1 = _mm256_set1_ps(inv1);
    for (int c = 0; c < DV; c++) {
        if (DV <= 3) { a0[c] = _mm256_add_ps(a0[c], b0[c]); a1[c] = _mm256_add_ps(a1[c], b1[c]); }
        _mm256_storeu_ps(o0 + 8 * c, _mm256_mul_ps(a0[c], i0));
        _mm256_storeu_ps(o1 + 8 * c, _mm256_mul_ps(a1[c], i1));
    }
}
/* Q [L, D] (rows at stride qs), K and V [S, D] (strides ks, vs) → O [L, D] (stride os) and, unless
   p is NULL, P [L, S] contiguous; drop: NULL or the dropout multipliers [L, S] contiguous. Two passes over the row pairs: softmax numerators of every row
   into work, then e·V (measured as fast as doing both per pair, and simpler to read). */
NK_AVX2_INLINE void attn_fwd_short_avx2(const int NV, const int DV, int64_t L, int64_t S, float scale, const float *q, int64_t qs,
    const float *k, int64_t ks, const float *v, int64_t vs, const float *mask, const float *drop, float *p, float *o, int64_t os,
    float *work) {
    const int64_t SP = 8 * NV, D = 8 * DV, LE = (L + 1) & ~(int64_t)1;
    /* work: Kᵀ [D, SP], numerators [LE, SP], reciprocal sums [LE], padded mask rows [2, 32], spare rows */
    float *kt = work, *e = kt + D * SP, *inv = e + LE * SP, *mp = inv + LE, *spare = mp + 64;
    transpose_k8(S, D, k, ks, SP, kt);
    int32_t lanes[8];
    for (int a = 0; a < 8; a++) lanes[a] = SP - 8 + a >= S ? -1 : 0;
    const __m256i padi = _mm256_loadu_si256((const __m256i *)lanes);
    const __m256 pad = _mm256_castsi256_ps(padi);
    const __m256i live = _mm256_xor_si256(padi, _mm256_set1_epi32(-1));
    for (int64_t i = 0; i < L; i += 2) {
        const int64_t i1 = i + 1 < L ? i + 1 : i; /* an odd last row is computed twice */
        const float *m0 = NULL, *m1 = NULL;
        if (mask) {
            for (int64_t j = S; j < SP; j++) mp[j] = mp[32 + j] = 0;
            memcpy(mp, mask + i * S, (size_t)S * sizeof(float));
            memcpy(mp + 32, mask + i1 * S, (size_t)S * sizeof(float));
            m0 = mp; m1 = mp + 32;
        }
        float *p0 = p ? p + i * S : NULL, *p1 = p ? (i1 == i ? spare : p + i1 * S) : NULL;
        attn_softmax2_avx2(NV, DV, scale, q + i * qs, q + i1 * qs, kt, m0, m1, drop ? drop + i * S : NULL,
                           drop ? drop + i1 * S : NULL, pad, live, p0, p1, e + i * SP, e + (i + 1) * SP, inv + i);
    }
    for (int64_t i = 0; i < L; i += 2)
        attn_comb2_avx2(DV, S, e + i * SP, e + (i + 1) * SP, 1, inv[i], inv[i + 1], v, vs, o + i * os, i + 1 < L ? o + (i + 1) * os : spare + 32);
}
/* Scores of JB keys (JB independent FMA chains over d; rows of k at stride ks) for the W query
   rows of qt [D, W] (W = 8 or 16: one vector), scaled, into et [JB, W]; with `live` < JB only the
   first `live` keys are read and stored (the others repeat the last). One body for both widths. */
#define DEFINE_SCORES_T(NAME, INLINE, VT, W, LOAD, BCAST, FMA, ZERO, MUL, STORE)                           \
INLINE void NAME(const int JB, int64_t D, const float *qt, const float *k, int64_t ks, VT sc, float *et, int live) { \
    const float *kr[8];                                                                                  \
    for (int a = 0; a < JB; a++) kr[a] = k + (a < live ? a : live - 1) * ks;                             \
    VT acc[8];                                                                                           \
    for (int a = 0; a < JB; a++) acc[a] = ZERO();                                                        \
    for (int64_t d = 0; d < D; d++) {                                                                    \
        const VT qv = LOAD(qt + d * (W));                                                                \
        for (int a = 0; a < JB; a++) acc[a] = FMA(BCAST(kr[a] + d), qv, acc[a]);                         \
    }                                                                                                    \
    for (int a = 0; a < JB; a++)                                                                         \
        if (a < live) STORE(et + a * (W), MUL(acc[a], sc));                                              \
}
#define NK_BCAST16(p) _mm512_set1_ps(*(p))
DEFINE_SCORES_T(attn_scores_t_avx2, NK_AVX2_INLINE, __m256, 8, _mm256_loadu_ps, _mm256_broadcast_ss, _mm256_fmadd_ps,
                _mm256_setzero_ps, _mm256_mul_ps, _mm256_storeu_ps)
/* Scores of JB ≤ 6 keys for the sixteen query rows of qt [D, 16] (two vectors) into et [JB, 16]:
   per d two loads of qt and JB broadcasts for 2·JB multiply-adds (8 loads per 12 at JB = 6,
   against 9 per 8 with one vector of rows); each score the same FMA chain over d as above. */
NK_AVX2_INLINE void attn_scores_t16_avx2(const int JB, int64_t D, const float *qt, const float *k, int64_t ks, __m256 sc, float *et,
    int live) {
    const float *kr[6];
    for (int a = 0; a < JB; a++) kr[a] = k + (a < live ? a : live - 1) * ks;
    __m256 a0[6], a1[6];
    for (int a = 0; a < JB; a++) a0[a] = a1[a] = _mm256_setzero_ps();
    for (int64_t d = 0; d < D; d++) {
        const __m256 q0 = _mm256_loadu_ps(qt + d * 16), q1 = _mm256_loadu_ps(qt + d * 16 + 8);
        for (int a = 0; a < JB; a++) {
            const __m256 kb = _mm256_broadcast_ss(kr[a] + d);
            a0[a] = _mm256_fmadd_ps(kb, q0, a0[a]);
            a1[a] = _mm256_fmadd_ps(kb, q1, a1[a]);
        }
    }
    for (int a = 0; a < JB; a++)
        if (a < live) {
            _mm256_storeu_ps(et + a * 16, _mm256_mul_ps(a0[a], sc));
            _mm256_storeu_ps(et + a * 16 + 8, _mm256_mul_ps(a1[a], sc));
        }
}
/* The softmax numerators of eight query rows down the S scores of et (a vector of eight rows a
   key, keys W floats apart) in place, and their reciprocal sums into inv[0..8). */
NK_AVX2_INLINE void attn_softmax_cols8_avx2(int64_t S, float *et, int64_t W, float *inv) {
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    /* the maximum of keys j ≡ 0, 1, 2, 3 mod 4 each in its own register, in the order of j (max
       keeps or drops a NaN by its operands' order), then paired; indexed by j & 3 the four had
       lived on the stack */
    __m256 m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
    int64_t j = 0;
    for (; j + 4 <= S; j += 4) {
        m0 = _mm256_max_ps(m0, _mm256_loadu_ps(et + j * W));
        m1 = _mm256_max_ps(m1, _mm256_loadu_ps(et + (j + 1) * W));
        m2 = _mm256_max_ps(m2, _mm256_loadu_ps(et + (j + 2) * W));
        m3 = _mm256_max_ps(m3, _mm256_loadu_ps(et + (j + 3) * W));
    }
    if (j < S) m0 = _mm256_max_ps(m0, _mm256_loadu_ps(et + j * W));
    if (j + 1 < S) m1 = _mm256_max_ps(m1, _mm256_loadu_ps(et + (j + 1) * W));
    if (j + 2 < S) m2 = _mm256_max_ps(m2, _mm256_loadu_ps(et + (j + 2) * W));
    __m256 mx = _mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3));
    mx = _mm256_blendv_ps(mx, _mm256_setzero_ps(), _mm256_cmp_ps(mx, ninf, _CMP_EQ_OQ)); /* a row of −∞: NaN below */
    __m256 t[8];
    for (int l = 0; l < 8; l++) t[l] = _mm256_setzero_ps();
    for (int64_t j0 = 0; j0 < S; j0 += 8) {
#pragma clang loop unroll(full)
        for (int l = 0; l < 8; l++) {
            if (j0 + l >= S) break;
            const __m256 x = exp2_nonpos8(_mm256_sub_ps(_mm256_loadu_ps(et + (j0 + l) * W), mx));
            _mm256_storeu_ps(et + (j0 + l) * W, x);
            t[l] = _mm256_add_ps(t[l], x);
        }
    }
    /* hsum8's order over the lanes j mod 8 */
    const __m256 sum = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(t[0], t[4]), _mm256_add_ps(t[2], t[6])),
                                     _mm256_add_ps(_mm256_add_ps(t[1], t[5]), _mm256_add_ps(t[3], t[7])));
    _mm256_storeu_ps(inv, _mm256_div_ps(_mm256_set1_ps(1.0f), sum));
}
/* The same forward without a mask, dropout or probabilities (inference) with the scores
   transposed: a vector holds one key's scores for eight query rows, so the softmax's maximum, sum
   and reciprocal run down the columns, element by element, instead of as horizontal reductions
   and scalar code between the rows' dependent steps. Per group of sixteen query rows (eight for
   a last group of at most eight): Qᵀ of the group [D, W] by register transposes, the scores six
   keys at a time in two vectors of rows (eight keys in one vector for a group of eight; an FMA
   chain over d per score, as above), the numerators Eᵀ [S, W], then O by attn_comb2_avx2 with the
   coefficients read down the columns. The same operations in the same order as
   attn_fwd_short_avx2 — the sums of the numerators in its lanes' order — so O is the same bit for
   bit. Per 28 × 28 × 16 block of the attention model (Zen 4 at the AVX2 level, one thread, a C
   timer): 1.06 µs with groups of eight, 1.01 with sixteen, 0.94 with
   the softmax's four maxima in registers (indexed by j & 3 they had lived on the stack).
   work: Qᵀ [D, 16], Eᵀ [S, 16], reciprocals [16], 32 spare values. */
NK_AVX2_INLINE void attn_infer_short_avx2(const int DV, int64_t L, int64_t S, float scale, const float *q, int64_t qs,
    const float *k, int64_t ks, const float *v, int64_t vs, float *o, int64_t os, float *work) {
    const int64_t D = 8 * DV;
    float *qt = work, *et = qt + D * 16, *inv = et + S * 16, *spare = inv + 16;
    const __m256 sc = _mm256_set1_ps(scale * NK_LOG2E);
    for (int64_t i0 = 0; i0 < L;) {
        /* sixteen rows a group while more than eight are left, so that the scores take two vectors */
        const int64_t W = L - i0 > 8 ? 16 : 8;
        transpose_k8(L - i0, D, q + i0 * qs, qs, W, qt); /* rows past L: zeros, never stored */
        int64_t j0 = 0;
        if (W == 16) {
            for (; j0 + 6 <= S; j0 += 6) attn_scores_t16_avx2(6, D, qt, k + j0 * ks, ks, sc, et + j0 * 16, 6);
            if (S - j0 > 3) attn_scores_t16_avx2(6, D, qt, k + j0 * ks, ks, sc, et + j0 * 16, (int)(S - j0));
            else if (S > j0) attn_scores_t16_avx2(3, D, qt, k + j0 * ks, ks, sc, et + j0 * 16, (int)(S - j0));
            attn_softmax_cols8_avx2(S, et, 16, inv);
            attn_softmax_cols8_avx2(S, et + 8, 16, inv + 8);
        } else {
            for (; j0 + 8 <= S; j0 += 8) attn_scores_t_avx2(8, D, qt, k + j0 * ks, ks, sc, et + j0 * 8, 8);
            if (S - j0 > 4) attn_scores_t_avx2(8, D, qt, k + j0 * ks, ks, sc, et + j0 * 8, S - j0);
            else if (S > j0) attn_scores_t_avx2(4, D, qt, k + j0 * ks, ks, sc, et + j0 * 8, S - j0);
            attn_softmax_cols8_avx2(S, et, 8, inv);
        }
        for (int64_t i = i0; i < L && i < i0 + W; i += 2)
            attn_comb2_avx2(DV, S, et + (i - i0), et + (i - i0) + 1, W, inv[i - i0], inv[i - i0 + 1], v, vs, o + i * os,
                            i + 1 < L ? o + (i + 1) * os : spare);
        i0 += W;
    }
}
/* Backward of one block for S ≤ 32 keys and D = 8…32 (NV = ⌈S/8⌉ score vectors, DV = D/8), with
   every accumulator in registers: per pair of query rows, dP = dO·Vᵀ, dS = P ⊙ (dP − P·dP)·scale
   (stored as rows [LE, SP], padded columns 0) and dQ = dS·K; then per pair of key rows,
   dV = Pᵀ·dO and dK = dSᵀ·Q from columns of P and dS (broadcasts at a row stride). The generic
   loops above spilled their accumulators and transposed V one scalar at a time (10 GFLOP/s on
   the attention model's 28×28×16 blocks). work: Vᵀ [D, SP], dS [LE, SP], 32 spare values, and with
   dropout P ⊙ drop [LE, SP] (dV's coefficients). */
NK_AVX2_INLINE void attn_bwd_short_avx2(const int NV, const int DV, int64_t L, int64_t S, float scale,
    const float *q, int64_t qs, const float *k, int64_t ks, const float *v, int64_t vs, const float *p, const float *drop,
    const float *go, int64_t gos, float *gq, int64_t gqs, float *gk, int64_t gks, float *gv, int64_t gvs, float *work) {
    const int64_t SP = 8 * NV, D = 8 * DV, LE = (L + 1) & ~(int64_t)1;
    float *vt = work, *ds = vt + D * SP, *spare = ds + LE * SP, *pd = spare + 32; /* pd: P ⊙ drop [LE, SP] */
    transpose_k8(S, D, v, vs, SP, vt);
    __m256i live;
    { int32_t lanes[8]; for (int a = 0; a < 8; a++) lanes[a] = SP - 8 + a < S ? -1 : 0; live = _mm256_loadu_si256((const __m256i *)lanes); }
    const __m256 sc = _mm256_set1_ps(scale);
    for (int64_t i = 0; i < L; i += 2) {
        const int64_t i1 = i + 1 < L ? i + 1 : i; /* an odd last row is computed twice */
        const float *g0 = go + i * gos, *g1 = go + i1 * gos;
        __m256 d0[4], d1[4];
        for (int c = 0; c < NV; c++) d0[c] = d1[c] = _mm256_setzero_ps();
        for (int d = 0; d < D; d++) {
            const __m256 a0 = _mm256_broadcast_ss(g0 + d), a1 = _mm256_broadcast_ss(g1 + d);
            const float *r = vt + d * SP;
            for (int c = 0; c < NV; c++) {
                const __m256 w = _mm256_loadu_ps(r + 8 * c);
                d0[c] = _mm256_fmadd_ps(a0, w, d0[c]);
                d1[c] = _mm256_fmadd_ps(a1, w, d1[c]);
            }
        }
        __m256 p0[4], p1[4];
        for (int c = 0; c + 1 < NV; c++) { p0[c] = _mm256_loadu_ps(p + i * S + 8 * c); p1[c] = _mm256_loadu_ps(p + i1 * S + 8 * c); }
        p0[NV - 1] = _mm256_maskload_ps(p + i * S + 8 * (NV - 1), live); /* 0 past S */
        p1[NV - 1] = _mm256_maskload_ps(p + i1 * S + 8 * (NV - 1), live);
        if (drop) { /* O took P ⊙ drop: the gradient of P is dP ⊙ drop, and dV comes from P ⊙ drop */
            for (int c = 0; c < NV; c++) {
                const __m256 x0 = row_vec8(drop + i * S, c, NV, live), x1 = row_vec8(drop + i1 * S, c, NV, live);
                _mm256_storeu_ps(pd + i * SP + 8 * c, _mm256_mul_ps(p0[c], x0));
                _mm256_storeu_ps(pd + (i + 1) * SP + 8 * c, _mm256_mul_ps(p1[c], x1));
                d0[c] = _mm256_mul_ps(d0[c], x0);
                d1[c] = _mm256_mul_ps(d1[c], x1);
            }
        }
        __m256 t0 = _mm256_mul_ps(p0[0], d0[0]), t1 = _mm256_mul_ps(p1[0], d1[0]);
        for (int c = 1; c < NV; c++) { t0 = _mm256_fmadd_ps(p0[c], d0[c], t0); t1 = _mm256_fmadd_ps(p1[c], d1[c], t1); }
        const __m256 dot0 = _mm256_set1_ps(hsum8(t0)), dot1 = _mm256_set1_ps(hsum8(t1));
        float *s0 = ds + i * SP, *s1 = ds + (i + 1) * SP;
        for (int c = 0; c < NV; c++) {
            _mm256_storeu_ps(s0 + 8 * c, _mm256_mul_ps(_mm256_mul_ps(p0[c], _mm256_sub_ps(d0[c], dot0)), sc));
            _mm256_storeu_ps(s1 + 8 * c, _mm256_mul_ps(_mm256_mul_ps(p1[c], _mm256_sub_ps(d1[c], dot1)), sc));
        }
        attn_comb2_avx2(DV, S, s0, s1, 1, 1.0f, 1.0f, k, ks, gq + i * gqs, i + 1 < L ? gq + (i + 1) * gqs : spare);
    }
    const float *pc = drop ? pd : p; /* dV's coefficients: columns of P, or of P ⊙ drop */
    const int64_t pcs = drop ? SP : S;
    for (int64_t j = 0; j < S; j += 2) {
        const int64_t j1 = j + 1 < S ? j + 1 : j; /* an odd last key is computed twice */
        attn_comb2_avx2(DV, L, pc + j, pc + j1, pcs, 1.0f, 1.0f, go, gos, gv + j * gvs, j + 1 < S ? gv + (j + 1) * gvs : spare);
        attn_comb2_avx2(DV, L, ds + j, ds + j1, SP, 1.0f, 1.0f, q, qs, gk + j * gks, j + 1 < S ? gk + (j + 1) * gks : spare);
    }
}
#define SHORT_BWD_CASE(NV, DV) case (NV) * 8 + (DV): attn_bwd_short_avx2(NV, DV, L, S, scale, q, qs, k, ks, v, vs, p, drop, go, gos, gq, gqs, gk, gks, gv, gvs, work); return 1;
/* The shapes the register-resident kernels take (S ≤ 32 keys, D = 8, 16, 24 or 32) and one
   instantiation per (NV, DV), so that their loops unroll and the accumulators stay in registers:
   SHORT_DISPATCH(CASE) returns 1 from the enclosing function after running CASE(NV, DV), or falls
   through when the block does not fit. */
#define SHORT_DISPATCH(CASE)                                                                           \
    if (S >= 1 && S <= 32 && D >= 8 && D <= 32 && D % 8 == 0 && L >= 1) {                             \
        switch ((S + 7) / 8 * 8 + D / 8) {                                                             \
            CASE(1, 1) CASE(1, 2) CASE(1, 3) CASE(1, 4) CASE(2, 1) CASE(2, 2) CASE(2, 3) CASE(2, 4)    \
            CASE(3, 1) CASE(3, 2) CASE(3, 3) CASE(3, 4) CASE(4, 1) CASE(4, 2) CASE(4, 3) CASE(4, 4)    \
        }                                                                                              \
    }
__attribute__((target("avx2,fma"))) static int attn_bwd_short_f32(int64_t L, int64_t S, int64_t D, float scale, const float *q, int64_t qs,
    const float *k, int64_t ks, const float *v, int64_t vs, const float *p, const float *drop, const float *go, int64_t gos,
    float *gq, int64_t gqs, float *gk, int64_t gks, float *gv, int64_t gvs, float *work) {
    SHORT_DISPATCH(SHORT_BWD_CASE)
    return 0;
}
#define SHORT_CASE(NV, DV) case (NV) * 8 + (DV): attn_fwd_short_avx2(NV, DV, L, S, scale, q, qs, k, ks, v, vs, mask, drop, p, o, os, work); return 1;
__attribute__((target("avx2,fma"))) static int attn_fwd_short_f32(int64_t L, int64_t S, int64_t D, float scale, const float *q, int64_t qs,
    const float *k, int64_t ks, const float *v, int64_t vs, const float *mask, const float *drop, float *p, float *o, int64_t os,
    float *work) {
    /* transposed where its score work (rows in groups of 8 × S) is at most the row pairs' (pairs ×
       S in vectors of 8): 28 × 28 × 16 1.24 → 1.17 µs, but 9 × 28 × 16 0.43 → 0.50, 2 × 28 0.13 → 0.22 */
    if (!mask && !drop && !p && L >= 1 && S >= 1 && S <= 32 && (D == 8 || D == 16 || D == 24 || D == 32)
        && ((L + 7) & ~(int64_t)7) * S <= ((L + 1) & ~(int64_t)1) * ((S + 7) & ~(int64_t)7)) {
        switch (D / 8) {
        case 1: attn_infer_short_avx2(1, L, S, scale, q, qs, k, ks, v, vs, o, os, work); return 1;
        case 2: attn_infer_short_avx2(2, L, S, scale, q, qs, k, ks, v, vs, o, os, work); return 1;
        case 3: attn_infer_short_avx2(3, L, S, scale, q, qs, k, ks, v, vs, o, os, work); return 1;
        default: attn_infer_short_avx2(4, L, S, scale, q, qs, k, ks, v, vs, o, os, work); return 1;
        }
    }
    SHORT_DISPATCH(SHORT_CASE)
    return 0;
}

// The same two kernels with AVX-512 (CPU level 2), for the same shapes: 16-lane vectors, so that a
// row of up to 32 scores is NV = ⌈S/16⌉ ≤ 2 registers and a head row of D ≤ 32 values DV = ⌈D/16⌉
// ≤ 2 (D = 8 or 24: the last vector masked); four query (or key) rows at a time, so that each
// vector loaded from Kᵀ, Vᵀ, V, K, Q or dO serves four multiply-adds and two score vectors give
// eight independent FMA chains (enough for the two 512-bit FMA units of an Intel Xeon). Masked
// loads and stores replace the padded copies at the ends of rows. On Zen 4, which splits each
// 512-bit operation in two, the gain is in the instructions decoded per multiply-add.

/* 2^x for x ≤ 0 on sixteen lanes: exp2_nonpos8's polynomial, range and NaN */
NK_AVX512_INLINE __m512 exp2_nonpos16(__m512 x) {
    const __m512 lo = _mm512_set1_ps(-125.0f);
    __m512 v = _mm512_max_ps(lo, x); /* max(lo, NaN) is NaN */
    __m512 n = _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_sub_ps(v, n);
    __m512 p = _mm512_set1_ps(NK_EXP2_C6);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(NK_EXP2_C5));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(NK_EXP2_C4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(NK_EXP2_C3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(NK_EXP2_C2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(NK_EXP2_C1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    __m512i b = _mm512_add_epi32(_mm512_castps_si512(p), _mm512_slli_epi32(_mm512_cvttps_epi32(n), 23));
    /* 0 where x < −125 (and −inf); NaN compares unordered and is kept */
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, lo, _CMP_NLT_UQ), _mm512_castsi512_ps(b));
}
/* Four output rows o[r] = inv[r]·Σ_t c[r][t·cs]·src[t·ss + ·] for t < n (rows of src DV vectors
   wide, the last one's lanes dm; coefficients at stride cs: rows of numerators, or columns of a
   row-major matrix); only the first `rows` outputs are stored (the others are clamped repeats).
   Two source rows per step into separate accumulators (independent FMA chains). */
NK_AVX512_INLINE void attn_comb4_avx512(const int DV, __mmask16 dm, int64_t n, const float *const c[4], int64_t cs,
    const float inv[4], const float *src, int64_t ss, float *const o[4], int64_t rows) {
    __m512 a[4][2], b[4][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < 4; r++)
        for (int d = 0; d < DV; d++) a[r][d] = b[r][d] = _mm512_setzero_ps();
    int64_t t = 0;
    for (; t + 2 <= n; t += 2) {
        const float *r0 = src + t * ss, *r1 = r0 + ss;
        __m512 x[2], y[2];
        for (int d = 0; d < DV; d++) {
            const __mmask16 m = d == DV - 1 ? dm : (__mmask16)0xFFFF;
            x[d] = _mm512_maskz_loadu_ps(m, r0 + 16 * d); y[d] = _mm512_maskz_loadu_ps(m, r1 + 16 * d);
        }
#pragma clang loop unroll(full)
        for (int r = 0; r < 4; r++) {
            const __m512 w0 = _mm512_set1_ps(c[r][t * cs]), w1 = _mm512_set1_ps(c[r][(t + 1) * cs]);
            for (int d = 0; d < DV; d++) { a[r][d] = _mm512_fmadd_ps(w0, x[d], a[r][d]); b[r][d] = _mm512_fmadd_ps(w1, y[d], b[r][d]); }
        }
    }
    if (t < n) {
        const float *r0 = src + t * ss;
        __m512 x[2];
        for (int d = 0; d < DV; d++) x[d] = _mm512_maskz_loadu_ps(d == DV - 1 ? dm : (__mmask16)0xFFFF, r0 + 16 * d);
#pragma clang loop unroll(full)
        for (int r = 0; r < 4; r++) {
            const __m512 w0 = _mm512_set1_ps(c[r][t * cs]);
            for (int d = 0; d < DV; d++) a[r][d] = _mm512_fmadd_ps(w0, x[d], a[r][d]);
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < 4; r++) {
        if (r >= rows) break;
        const __m512 s = _mm512_set1_ps(inv[r]);
        for (int d = 0; d < DV; d++)
            _mm512_mask_storeu_ps(o[r] + 16 * d, d == DV - 1 ? dm : (__mmask16)0xFFFF, _mm512_mul_ps(_mm512_add_ps(a[r][d], b[r][d]), s));
    }
}
/* Forward of one block (as attn_fwd_short_avx2). work: Kᵀ [D, SP], numerators [L4, SP], reciprocal
   sums [L4] (SP = 16·NV, L4 = L rounded up to 4). */
NK_AVX512_INLINE void attn_fwd_short_avx512(const int NV, const int DV, int64_t L, int64_t S, int64_t D, float scale,
    const float *q, int64_t qs, const float *k, int64_t ks, const float *v, int64_t vs, const float *mask, const float *drop,
    float *p, float *o, int64_t os, float *work) {
    const int64_t SP = 16 * NV, L4 = (L + 3) & ~(int64_t)3;
    float *kt = work, *e = kt + D * SP, *inv = e + L4 * SP;
    transpose_k8(S, D, k, ks, SP, kt);
    const __mmask16 sm = nk_live_mask16(S - 16 * (NV - 1)), dm = nk_live_mask16(D - 16 * (DV - 1));
    const __m512 sc = _mm512_set1_ps(scale * NK_LOG2E), log2e = _mm512_set1_ps(NK_LOG2E), ninf = _mm512_set1_ps(-INFINITY);
    for (int64_t i = 0; i < L; i += 4) {
        int64_t row[4]; /* rows past L repeat the last one; their results are not stored */
        for (int r = 0; r < 4; r++) row[r] = i + r < L ? i + r : L - 1;
        __m512 s[4][2];
#pragma clang loop unroll(full)
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < NV; c++) s[r][c] = _mm512_setzero_ps();
        for (int64_t d = 0; d < D; d++) {
            const float *kr = kt + d * SP;
            __m512 kv[2];
            for (int c = 0; c < NV; c++) kv[c] = _mm512_loadu_ps(kr + 16 * c);
#pragma clang loop unroll(full)
            for (int r = 0; r < 4; r++) {
                const __m512 a = _mm512_set1_ps(q[row[r] * qs + d]);
                for (int c = 0; c < NV; c++) s[r][c] = _mm512_fmadd_ps(a, kv[c], s[r][c]);
            }
        }
#pragma clang loop unroll(full)
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < NV; c++) {
                s[r][c] = _mm512_mul_ps(s[r][c], sc);
                if (mask) s[r][c] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(c == NV - 1 ? sm : (__mmask16)0xFFFF, mask + row[r] * S + 16 * c), log2e, s[r][c]);
            }
            s[r][NV - 1] = _mm512_mask_mov_ps(ninf, sm, s[r][NV - 1]); /* padding: exp gives 0 */
            float mx = _mm512_reduce_max_ps(NV == 2 ? _mm512_max_ps(s[r][0], s[r][1]) : s[r][0]);
            if (mx == -INFINITY) mx = 0; /* a fully masked row gives NaN below, as in PyTorch */
            const __m512 b = _mm512_set1_ps(mx);
            __m512 t = _mm512_setzero_ps();
            for (int c = 0; c < NV; c++) {
                s[r][c] = exp2_nonpos16(_mm512_sub_ps(s[r][c], b));
                t = _mm512_add_ps(t, s[r][c]);
                /* dropout: O takes the numerators ⊙ drop; P and the sums stay whole */
                const __m512 x = drop ? _mm512_mul_ps(s[r][c], _mm512_maskz_loadu_ps(c == NV - 1 ? sm : (__mmask16)0xFFFF, drop + row[r] * S + 16 * c)) : s[r][c];
                _mm512_storeu_ps(e + (i + r) * SP + 16 * c, x);
            }
            const float rs = 1.0f / _mm512_reduce_add_ps(t);
            inv[i + r] = rs;
            if (p && i + r < L)
                for (int c = 0; c < NV; c++)
                    _mm512_mask_storeu_ps(p + (i + r) * S + 16 * c, c == NV - 1 ? sm : (__mmask16)0xFFFF, _mm512_mul_ps(s[r][c], _mm512_set1_ps(rs)));
        }
    }
    for (int64_t i = 0; i < L; i += 4) {
        const float *c[4];
        float *out[4];
        for (int r = 0; r < 4; r++) { c[r] = e + (i + r) * SP; out[r] = o + (i + r < L ? i + r : L - 1) * os; }
        attn_comb4_avx512(DV, dm, S, c, 1, inv + i, v, vs, out, L - i);
    }
}
DEFINE_SCORES_T(attn_scores_t_avx512, NK_AVX512_INLINE, __m512, 16, _mm512_loadu_ps, NK_BCAST16, _mm512_fmadd_ps,
                _mm512_setzero_ps, _mm512_mul_ps, _mm512_storeu_ps)
/* The AVX-512 forward for inference (no mask, dropout or probabilities) with the scores
   transposed, sixteen query rows a vector (as attn_infer_short_avx2): the same operations in the
   same order as attn_fwd_short_avx512 — each row's numerators summed in its lanes' order, then as
   _mm512_reduce_add_ps pairs the lanes (8 apart, 4, 2, 1) — so O is the same bit for bit. work:
   Qᵀ [D, 16], Eᵀ [S, 16], reciprocals [16]. */
NK_AVX512_INLINE void attn_infer_short_avx512(const int DV, __mmask16 dm, int64_t L, int64_t S, int64_t D, float scale,
    const float *q, int64_t qs, const float *k, int64_t ks, const float *v, int64_t vs, float *o, int64_t os, float *work) {
    float *qt = work, *et = qt + D * 16, *inv = et + S * 16;
    const __m512 sc = _mm512_set1_ps(scale * NK_LOG2E), ninf = _mm512_set1_ps(-INFINITY), zero = _mm512_setzero_ps();
    for (int64_t i0 = 0; i0 < L; i0 += 16) {
        transpose_k8(L - i0, D, q + i0 * qs, qs, 16, qt); /* rows past L: zeros, never stored */
        int64_t j0 = 0;
        for (; j0 + 8 <= S; j0 += 8) attn_scores_t_avx512(8, D, qt, k + j0 * ks, ks, sc, et + j0 * 16, 8);
        if (S - j0 > 4) attn_scores_t_avx512(8, D, qt, k + j0 * ks, ks, sc, et + j0 * 16, S - j0);
        else if (S > j0) attn_scores_t_avx512(4, D, qt, k + j0 * ks, ks, sc, et + j0 * 16, S - j0);
        /* four maxima in registers, as attn_softmax_cols8_avx2's */
        __m512 m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
        int64_t j = 0;
        for (; j + 4 <= S; j += 4) {
            m0 = _mm512_max_ps(m0, _mm512_loadu_ps(et + j * 16));
            m1 = _mm512_max_ps(m1, _mm512_loadu_ps(et + (j + 1) * 16));
            m2 = _mm512_max_ps(m2, _mm512_loadu_ps(et + (j + 2) * 16));
            m3 = _mm512_max_ps(m3, _mm512_loadu_ps(et + (j + 3) * 16));
        }
        if (j < S) m0 = _mm512_max_ps(m0, _mm512_loadu_ps(et + j * 16));
        if (j + 1 < S) m1 = _mm512_max_ps(m1, _mm512_loadu_ps(et + (j + 1) * 16));
        if (j + 2 < S) m2 = _mm512_max_ps(m2, _mm512_loadu_ps(et + (j + 2) * 16));
        __m512 mx = _mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3));
        mx = _mm512_mask_mov_ps(mx, _mm512_cmp_ps_mask(mx, ninf, _CMP_EQ_OQ), zero); /* a row of −∞: NaN below */
        __m512 t[16];
#pragma clang loop unroll(full)
        for (int l = 0; l < 16; l++) t[l] = zero;
        for (int64_t c0 = 0; c0 < S; c0 += 16) {
#pragma clang loop unroll(full)
            for (int l = 0; l < 16; l++) {
                if (c0 + l >= S) break;
                const __m512 x = exp2_nonpos16(_mm512_sub_ps(_mm512_loadu_ps(et + (c0 + l) * 16), mx));
                _mm512_storeu_ps(et + (c0 + l) * 16, x);
                t[l] = _mm512_add_ps(t[l], x);
            }
        }
#pragma clang loop unroll(full)
        for (int w = 8; w >= 1; w /= 2)
#pragma clang loop unroll(full)
            for (int l = 0; l < w; l++) t[l] = _mm512_add_ps(t[l], t[l + w]);
        _mm512_storeu_ps(inv, _mm512_div_ps(_mm512_set1_ps(1.0f), t[0]));
        for (int64_t i = i0; i < L && i < i0 + 16; i += 4) {
            const float *c[4];
            float *out[4];
            for (int r = 0; r < 4; r++) { c[r] = et + (i - i0) + r; out[r] = o + (i + r < L ? i + r : L - 1) * os; }
            attn_comb4_avx512(DV, dm, S, c, 16, inv + (i - i0), v, vs, out, L - i);
        }
    }
}
/* Backward of one block (as attn_bwd_short_avx2), four query rows, then four keys, at a time.
   work: Vᵀ [D, SP], dS [L4, SP], with dropout P ⊙ drop [L4, SP]. */
NK_AVX512_INLINE void attn_bwd_short_avx512(const int NV, const int DV, int64_t L, int64_t S, int64_t D, float scale,
    const float *q, int64_t qs, const float *k, int64_t ks, const float *v, int64_t vs, const float *p, const float *drop,
    const float *go, int64_t gos, float *gq, int64_t gqs, float *gk, int64_t gks, float *gv, int64_t gvs, float *work) {
    const int64_t SP = 16 * NV, L4 = (L + 3) & ~(int64_t)3;
    float *vt = work, *ds = vt + D * SP, *pd = ds + L4 * SP; /* pd: P ⊙ drop [L4, SP] */
    transpose_k8(S, D, v, vs, SP, vt);
    const __mmask16 sm = nk_live_mask16(S - 16 * (NV - 1)), dm = nk_live_mask16(D - 16 * (DV - 1));
    const __m512 sc = _mm512_set1_ps(scale);
    const float one[4] = {1, 1, 1, 1};
    for (int64_t i = 0; i < L; i += 4) {
        int64_t row[4];
        for (int r = 0; r < 4; r++) row[r] = i + r < L ? i + r : L - 1;
        __m512 dp[4][2];
#pragma clang loop unroll(full)
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < NV; c++) dp[r][c] = _mm512_setzero_ps();
        for (int64_t d = 0; d < D; d++) {
            const float *vr = vt + d * SP;
            __m512 w[2];
            for (int c = 0; c < NV; c++) w[c] = _mm512_loadu_ps(vr + 16 * c);
#pragma clang loop unroll(full)
            for (int r = 0; r < 4; r++) {
                const __m512 a = _mm512_set1_ps(go[row[r] * gos + d]);
                for (int c = 0; c < NV; c++) dp[r][c] = _mm512_fmadd_ps(a, w[c], dp[r][c]);
            }
        }
        const float *cr[4];
        float *out[4];
#pragma clang loop unroll(full)
        for (int r = 0; r < 4; r++) {
            __m512 pr[2];
            for (int c = 0; c < NV; c++) pr[c] = _mm512_maskz_loadu_ps(c == NV - 1 ? sm : (__mmask16)0xFFFF, p + row[r] * S + 16 * c); /* 0 past S */
            if (drop) /* O took P ⊙ drop: the gradient of P is dP ⊙ drop, and dV comes from P ⊙ drop */
                for (int c = 0; c < NV; c++) {
                    const __m512 x = _mm512_maskz_loadu_ps(c == NV - 1 ? sm : (__mmask16)0xFFFF, drop + row[r] * S + 16 * c);
                    _mm512_storeu_ps(pd + (i + r) * SP + 16 * c, _mm512_mul_ps(pr[c], x));
                    dp[r][c] = _mm512_mul_ps(dp[r][c], x);
                }
            __m512 t = _mm512_mul_ps(pr[0], dp[r][0]);
            if (NV == 2) t = _mm512_fmadd_ps(pr[1], dp[r][1], t);
            const __m512 dot = _mm512_set1_ps(_mm512_reduce_add_ps(t));
            float *dr = ds + (i + r) * SP;
            for (int c = 0; c < NV; c++) _mm512_storeu_ps(dr + 16 * c, _mm512_mul_ps(_mm512_mul_ps(pr[c], _mm512_sub_ps(dp[r][c], dot)), sc));
            cr[r] = dr; out[r] = gq + row[r] * gqs;
        }
        attn_comb4_avx512(DV, dm, S, cr, 1, one, k, ks, out, L - i); /* dQ = dS·K */
    }
    for (int64_t j = 0; j < S; j += 4) {
        const float *cp[4], *cd[4];
        float *ov[4], *ok[4];
        for (int r = 0; r < 4; r++) {
            const int64_t jj = j + r < S ? j + r : S - 1;
            cp[r] = drop ? pd + jj : p + jj; cd[r] = ds + jj; ov[r] = gv + jj * gvs; ok[r] = gk + jj * gks;
        }
        attn_comb4_avx512(DV, dm, L, cp, drop ? SP : S, one, go, gos, ov, S - j);  /* dV = Pᵀ·dO ((P ⊙ drop)ᵀ·dO) */
        attn_comb4_avx512(DV, dm, L, cd, SP, one, q, qs, ok, S - j);   /* dK = dSᵀ·Q */
    }
}
/* The shapes the AVX-512 kernels take: those of SHORT_DISPATCH, as (NV, DV) in 16-lane vectors */
#define SHORT512_DISPATCH(CASE)                                                                        \
    if (S >= 1 && S <= 32 && D >= 8 && D <= 32 && D % 8 == 0 && L >= 1) {                             \
        switch ((S + 15) / 16 * 4 + (D + 15) / 16) { CASE(1, 1) CASE(1, 2) CASE(2, 1) CASE(2, 2) }       \
    }
#define SHORT512_CASE(NV, DV) case (NV) * 4 + (DV): attn_fwd_short_avx512(NV, DV, L, S, D, scale, q, qs, k, ks, v, vs, mask, drop, p, o, os, work); return 1;
#define SHORT512_BWD_CASE(NV, DV) case (NV) * 4 + (DV): attn_bwd_short_avx512(NV, DV, L, S, D, scale, q, qs, k, ks, v, vs, p, drop, go, gos, gq, gqs, gk, gks, gv, gvs, work); return 1;
NK_AVX512 static int attn_fwd_short512_f32(int64_t L, int64_t S, int64_t D, float scale, const float *q, int64_t qs,
    const float *k, int64_t ks, const float *v, int64_t vs, const float *mask, const float *drop, float *p, float *o, int64_t os,
    float *work) {
    /* transposed unless its score work (rows in groups of 16 × S) exceeds 4/3 of the four-row
       kernel's (rows in fours × S in vectors of 16), where that one's per-row reductions no longer
       cost more: 28 × 28 × 16 1.00 → 0.82 µs, 9 × 28 × 16 0.53 → 0.38, but 10 × 32 × 32 0.74 → 0.82
       and 5 × 32 × 32 0.51 → 0.62 (Zen 4) */
    if (!mask && !drop && !p && L >= 1 && S >= 1 && S <= 32 && D >= 8 && D <= 32 && D % 8 == 0
        && 3 * ((L + 15) & ~(int64_t)15) * S < 4 * ((L + 3) & ~(int64_t)3) * ((S + 15) & ~(int64_t)15)) {
        const __mmask16 dm = nk_live_mask16(D - 16 * ((D + 15) / 16 - 1));
        if (D <= 16) attn_infer_short_avx512(1, dm, L, S, D, scale, q, qs, k, ks, v, vs, o, os, work);
        else attn_infer_short_avx512(2, dm, L, S, D, scale, q, qs, k, ks, v, vs, o, os, work);
        return 1;
    }
    SHORT512_DISPATCH(SHORT512_CASE)
    return 0;
}
NK_AVX512 static int attn_bwd_short512_f32(int64_t L, int64_t S, int64_t D, float scale, const float *q, int64_t qs,
    const float *k, int64_t ks, const float *v, int64_t vs, const float *p, const float *drop, const float *go, int64_t gos,
    float *gq, int64_t gqs, float *gk, int64_t gks, float *gv, int64_t gvs, float *work) {
    SHORT512_DISPATCH(SHORT512_BWD_CASE)
    return 0;
}
#endif

#ifdef NK_X86
/* the short-sequence kernels (AVX-512, else AVX2) when the CPU level allows them and the shape fits */
#define SHORT_FWD_f32 do { int lv_ = nk_cpu_level(); \
    if ((lv_ >= 2 && attn_fwd_short512_f32(FWD_CALL)) || (lv_ >= 1 && attn_fwd_short_f32(FWD_CALL))) return; } while (0)
#define SHORT_BWD_f32 do { int lv_ = nk_cpu_level(); \
    if ((lv_ >= 2 && attn_bwd_short512_f32(BWD_CALL)) || (lv_ >= 1 && attn_bwd_short_f32(BWD_CALL))) return; } while (0)
#else
#define SHORT_FWD_f32 do { } while (0)
#define SHORT_BWD_f32 do { } while (0)
#endif
#define SHORT_FWD_f64 do { } while (0)
#define SHORT_BWD_f64 do { } while (0)
#define T float
ATTN_EXPORTS(f32)
#undef T
#define T double
ATTN_EXPORTS(f64)
#undef T
