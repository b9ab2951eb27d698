// Blocked GEMM in the style of BLIS/GotoBLAS.
//
// Layout: everything row-major. C[M,N] += alpha * op(A)[M,K] * op(B)[K,N] after C *= beta.
// Loops, outer to inner:  jc over N by NC  (B panel, kc x nc, packed once, lives in L3; a quarter
//                                             of L2 when A is read in place, see ncBlock)
//                          pc over K by KC
//                          ic over M by MC  (A block, mc x kc, lives in L2)
//                          jr over nc by NR, ir over mc by MR -> micro-kernel (MR x NR tile in registers)
// Packed A: panels of MR rows, each stored p-major: a[p*MR + i] (alpha folded in).
// Packed B: panels of NR columns, each stored p-major: b[p*NR + j]. Edges are zero-padded.
// Whole panels are read in place instead where packing costs more than it saves (see
// DEFINE_GEMM's aInPlace and bInPlace below): A's rows when alpha = 1, Aᵀ and B for narrow products.
// The micro-kernel is written once with GCC/Clang vector extensions and compiled for
// AVX-512, AVX2+FMA and a portable 128-bit baseline; the variant is chosen at run time.
#include "neurone_kernels.h"
#include <stdlib.h>
#include <string.h>
#include "cpu_level.h"
#include "nk_avx2.h"

#pragma STDC FP_CONTRACT ON

#define MR 6
#define KC 512
#define MC 48
#define NC 4096

#if defined(__x86_64__) || defined(__i386__)
#define NK_X86 1
#define ATTR_AVX512 __attribute__((target("avx512f,avx512dq,avx2,fma")))
#define ATTR_AVX2 __attribute__((target("avx2,fma")))
#endif

typedef float f32x4 __attribute__((vector_size(16)));
typedef float f32x8 __attribute__((vector_size(32)));
typedef float f32x16 __attribute__((vector_size(64)));
typedef double f64x2 __attribute__((vector_size(16)));
typedef double f64x4 __attribute__((vector_size(32)));
typedef double f64x8 __attribute__((vector_size(64)));

// acc[i][v] = sum_p a[p*as + i*ai] * b[p*bs + v*VL ...]; then C tile += acc. Packed operands
// have as = MR, ai = 1 and bs = NRV; an operand read in place has its row stride there. NAME
// takes as (ai = 1: packed A, or Aᵀ in place), NAME##_rows takes ai (as = 1: A's rows in place).
// R rows (a constant at each instance), row i of group i / MR ag further on (R = 2·MR: NAME##_x2
// and NAME##_rows_x2, two panels of A against each load of B: on AVX-512, 24 accumulators and 12
// broadcasts and 2 loads per 24 multiply-adds, where one group's 6 broadcasts and 2 loads per 12
// left Intel's two 512-bit FMA units waiting: 2048³ 128–130 → 134–142 GFLOP/s, 256×1000×784 nt
// ~129 → 136, measured in C on a Xeon, Emerald Rapids; the same sums in the same order, so the
// same bits). Every loop over the accumulators is unrolled: with one left rolled (the stores of a
// two-panel tile) clang kept the 24 accumulators in a stack array, cleared by a memset call and
// stored and reloaded around every tile — Xeon (Emerald Rapids), C timer (operands from malloc,
// 16-byte aligned), GFLOP/s: 128×1024×64 tn 133 → 141, 128×9216×64 tn 122 → 125, 2048³ 149 → 151.
#define DEFINE_UKERNEL(NAME, T, VT, VL, NV, ATTR)                                          \
    ATTR static inline __attribute__((always_inline)) void NAME##_body(                   \
            const int R, const int COPY, int64_t kc, const T *restrict a, int64_t as, int64_t ai, int64_t ag, \
            const T *restrict b, int64_t bs, T *restrict bc, T *restrict c, int64_t ldc, int64_t mr, int64_t nr, \
            int overwrite) {                                                                  \
        enum { NRV = (VL) * (NV) };                                                       \
        VT acc[2 * MR][NV];                                                               \
        _Pragma("clang loop unroll(full)")                                                \
        for (int i = 0; i < R; i++)                                                       \
            for (int v = 0; v < NV; v++) acc[i][v] = (VT){0};                             \
        for (int64_t p = 0; p < kc; p++) {                                                \
            VT bv[NV];                                                                    \
            for (int v = 0; v < NV; v++) memcpy(&bv[v], b + p * bs + v * (VL), sizeof(VT)); \
            if (COPY) {                                                                   \
                for (int v = 0; v < NV; v++) memcpy(bc + p * NRV + v * (VL), &bv[v], sizeof(VT)); \
                for (int v = 0; v < NV; v++) __builtin_prefetch(b + p * bs + 2 * NRV + v * (VL), 0, 2); \
            }                                                                             \
            _Pragma("clang loop unroll(full)")                                            \
            for (int i = 0; i < R; i++) {                                                 \
                /* a scalar operand splats: one broadcast load. (VT){0} + a[…] was a real */ \
                /* add (0 + −0 is +0) whose zero took the 16th register of the AVX2 build, */ \
                /* which then spilled and shuffled its accumulators every step: 0.70× */     \
                /* NumPy at 2048³, 0.45× on Aᵀ·B; now ~1.0× (Zen 4 at AVX2) */              \
                const T av = a[p * as + (i % MR) * ai + (i / MR) * ag];                   \
                for (int v = 0; v < NV; v++) acc[i][v] += av * bv[v];                     \
            }                                                                             \
        }                                                                                 \
        if (mr == R && nr == NRV) {                                                  \
            _Pragma("clang loop unroll(full)")                                            \
            for (int i = 0; i < R; i++)                                                   \
                for (int v = 0; v < NV; v++) {                                            \
                    VT cv = acc[i][v];                                                    \
                    if (!overwrite) {                                                     \
                        VT old;                                                           \
                        memcpy(&old, c + i * ldc + v * (VL), sizeof(VT));                 \
                        cv = old + cv;                                                    \
                    }                                                                     \
                    memcpy(c + i * ldc + v * (VL), &cv, sizeof(VT));                      \
                }                                                                         \
        } else {                                                                          \
            T tmp[2 * MR * NRV];                                                          \
            _Pragma("clang loop unroll(full)")                                            \
            for (int i = 0; i < R; i++)                                                   \
                for (int v = 0; v < NV; v++) { VT x = acc[i][v]; memcpy(tmp + i * NRV + v * (VL), &x, sizeof(VT)); } \
            for (int64_t i = 0; i < mr; i++)                                              \
                for (int64_t j = 0; j < nr; j++)                                          \
                    c[i * ldc + j] = overwrite ? tmp[i * NRV + j] : c[i * ldc + j] + tmp[i * NRV + j]; \
        }                                                                                 \
    }                                                                                     \
    ATTR static void NAME(int64_t kc, const T *a, int64_t as, const T *b, int64_t bs, T *c, \
                          int64_t ldc, int64_t mr, int64_t nr, int overwrite) {           \
        NAME##_body(MR, 0, kc, a, as, 1, 0, b, bs, NULL, c, ldc, mr, nr, overwrite);      \
    }                                                                                     \
    ATTR static void NAME##_rows(int64_t kc, const T *a, int64_t ai, const T *b, int64_t bs, T *c, \
                                 int64_t ldc, int64_t mr, int64_t nr, int overwrite) {    \
        NAME##_body(MR, 0, kc, a, 1, ai, 0, b, bs, NULL, c, ldc, mr, nr, overwrite);      \
    }
#define DEFINE_UKERNEL_X2(NAME, T, ATTR)                                                  \
    ATTR static void NAME##_x2(int64_t kc, const T *a, int64_t as, int64_t ag, const T *b, int64_t bs, T *c, \
                               int64_t ldc, int64_t nr, int overwrite) {                  \
        NAME##_body(2 * MR, 0, kc, a, as, 1, ag, b, bs, NULL, c, ldc, 2 * MR, nr, overwrite);           \
    }                                                                                     \
    ATTR static void NAME##_rows_x2(int64_t kc, const T *a, int64_t ai, int64_t ag, const T *b, int64_t bs, T *c, \
                                    int64_t ldc, int64_t nr, int overwrite) {             \
        NAME##_body(2 * MR, 0, kc, a, 1, ai, ag, b, bs, NULL, c, ldc, 2 * MR, nr, overwrite);  \
    }                                                                                     \
    /* two panels of A (either form: as, ai) against B's panel read in place (row stride bs), */ \
    /* each loaded vector of B also stored to bc as the packed panel (bc[p·NRV + …]) */   \
    ATTR static void NAME##_x2_copy(int64_t kc, const T *a, int64_t as, int64_t ai, int64_t ag, const T *b, \
                                    int64_t bs, T *bc, T *c, int64_t ldc, int64_t nr, int overwrite) { \
        NAME##_body(2 * MR, 1, kc, a, as, ai, ag, b, bs, bc, c, ldc, 2 * MR, nr, overwrite);   \
    }

// A's last rows (mr < MR: a packed panel, zero rows below mr): tiles of 4 and 2 rows instead of
// MR, so no multiply-adds on the panel's rows of zeros (64 rows of A are five two-panel tiles and
// 4 rows; 128 rows end in 2). Xeon (Emerald Rapids), C timer (operands from malloc, 16-byte
// aligned: lower than Neurone's 64-byte aligned tensors read), GFLOP/s, six-row tile → these:
// 64×1024×128 129 → 135, 64×4608×288 135 → 139, 64×1000×784 133 → 137, 128×1024×64 tn 141 → 145,
// 128×9216×64 tn 125 → 130. float32 at AVX-512 and AVX2 (float64 keeps MR rows).
#define DEFINE_UKERNEL_SHORT(NAME, T, ATTR)                                               \
    ATTR static void NAME##_r4(int64_t kc, const T *a, int64_t as, const T *b, int64_t bs, T *c, \
                               int64_t ldc, int64_t mr, int64_t nr, int overwrite) {      \
        NAME##_body(4, 0, kc, a, as, 1, 0, b, bs, NULL, c, ldc, mr, nr, overwrite);       \
    }                                                                                     \
    ATTR static void NAME##_r2(int64_t kc, const T *a, int64_t as, const T *b, int64_t bs, T *c, \
                               int64_t ldc, int64_t mr, int64_t nr, int overwrite) {      \
        NAME##_body(2, 0, kc, a, as, 1, 0, b, bs, NULL, c, ldc, mr, nr, overwrite);       \
    }

#ifdef NK_X86
DEFINE_UKERNEL(uk_f32_avx512, float, f32x16, 16, 2, ATTR_AVX512)
DEFINE_UKERNEL_X2(uk_f32_avx512, float, ATTR_AVX512)
DEFINE_UKERNEL_SHORT(uk_f32_avx512, float, ATTR_AVX512)
DEFINE_UKERNEL(uk_f32_avx2, float, f32x8, 8, 2, ATTR_AVX2)
DEFINE_UKERNEL_SHORT(uk_f32_avx2, float, ATTR_AVX2)
DEFINE_UKERNEL(uk_f64_avx512, double, f64x8, 8, 2, ATTR_AVX512)
DEFINE_UKERNEL(uk_f64_avx2, double, f64x4, 4, 2, ATTR_AVX2)
#endif
DEFINE_UKERNEL(uk_f32_generic, float, f32x4, 4, 2, )
DEFINE_UKERNEL(uk_f64_generic, double, f64x2, 2, 2, )

typedef void (*uk_f32)(int64_t, const float *, int64_t, const float *, int64_t, float *, int64_t, int64_t, int64_t, int);
typedef void (*uk_f64)(int64_t, const double *, int64_t, const double *, int64_t, double *, int64_t, int64_t, int64_t, int);
// two panels of MR rows: (kc, a, as or ai, ag, b, bs, c, ldc, nr, overwrite)
typedef void (*uk2_f32)(int64_t, const float *, int64_t, int64_t, const float *, int64_t, float *, int64_t, int64_t, int);
typedef void (*uk2_f64)(int64_t, const double *, int64_t, int64_t, const double *, int64_t, double *, int64_t, int64_t, int);
// two panels of MR rows against B read in place, B's panel stored as it is read:
// (kc, a, as, ai, ag, b, bs, bc, c, ldc, nr, overwrite)
typedef void (*uk2c_f32)(int64_t, const float *, int64_t, int64_t, int64_t, const float *, int64_t, float *, float *, int64_t, int64_t, int);
typedef void (*uk2c_f64)(int64_t, const double *, int64_t, int64_t, int64_t, const double *, int64_t, double *, double *, int64_t, int64_t, int);

typedef struct {
    const char *name;
    uk_f32 f32, f32rows; int64_t nr32;
    uk_f32 f32r4, f32r2; /* A's last 3–4 and 1–2 rows (packed), NULL: a tile of MR rows */
    uk_f64 f64, f64rows; int64_t nr64;
    uk_f64 f64r4, f64r2; /* always NULL: float64 takes tiles of MR rows */
    uk2_f32 f32x2, f32rowsx2; /* NULL: one panel of MR rows a tile */
    uk2_f64 f64x2, f64rowsx2;
    uk2c_f32 f32x2copy; /* NULL: B's panels packed before their first tile */
    uk2c_f64 f64x2copy;
} kernel_set;

static kernel_set chosen;
static int chosen_ready = 0;

static const kernel_set *kernels(void) {
    if (!chosen_ready) {
        kernel_set k = {"generic", uk_f32_generic, uk_f32_generic_rows, 8, NULL, NULL, uk_f64_generic, uk_f64_generic_rows, 4,
                        NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
#ifdef NK_X86
        int level = nk_cpu_level();
        if (level >= 2) {
            k = (kernel_set){"avx512", uk_f32_avx512, uk_f32_avx512_rows, 32, uk_f32_avx512_r4, uk_f32_avx512_r2,
                             uk_f64_avx512, uk_f64_avx512_rows, 16, NULL, NULL,
                             uk_f32_avx512_x2, uk_f32_avx512_rows_x2, NULL, NULL, uk_f32_avx512_x2_copy, NULL};
        } else if (level == 1) {
            k = (kernel_set){"avx2", uk_f32_avx2, uk_f32_avx2_rows, 16, uk_f32_avx2_r4, uk_f32_avx2_r2,
                             uk_f64_avx2, uk_f64_avx2_rows, 8, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
        }
#endif
        chosen = k; // benign race: every thread computes the same value
        chosen_ready = 1;
    }
    return &chosen;
}

const char *nk_gemm_kernel_name(void) { return kernels()->name; }
int64_t nk_gemm_mr(void) { return MR; }
int64_t nk_gemm_nr(int32_t isDouble) { return isDouble ? kernels()->nr64 : kernels()->nr32; }

// Per-thread buffers, grown on demand and kept for the thread's lifetime: the packing buffer, and
// C's transpose when the product runs as Cᵀ = B·op(A)ᵀ (the call inside packs into the first).
static _Thread_local void *tl_buf = NULL, *tl_tbuf = NULL;
static _Thread_local size_t tl_cap = 0, tl_tcap = 0;

static void *grown(void **buf, size_t *cap, size_t bytes) {
    if (bytes > *cap) {
        free(*buf);
        size_t rounded = (bytes + 4095) & ~(size_t)4095;
        *buf = aligned_alloc(64, rounded);
        *cap = *buf ? rounded : 0;
    }
    return *buf;
}
static void *scratch(size_t bytes) { return grown(&tl_buf, &tl_cap, bytes); }
static void *scratch_t(size_t bytes) { return grown(&tl_tbuf, &tl_tcap, bytes); }

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))


#ifdef NK_X86
// float32 B stored [N, K] (a Linear layer's weight) packed for the product with Bᵀ: panel jr of nr
// columns holds dst[p·nr + j] = B[(jr + j)·ldb + p]. Element by element this reads nr strided rows
// per value written; here 8 rows × 8 reductions at a time go through an 8×8 register transpose
// (the one linear.c packs its weights with), edges element by element.
__attribute__((target("avx2,fma"))) static void pack_b_trans_f32_avx2(int64_t kc, int64_t nc, int64_t nr, const float *B, int64_t ldb,
                                                                   float *buf) {
    for (int64_t jr = 0; jr < nc; jr += nr) {
        const int64_t cols = MIN(nr, nc - jr);
        float *dst = buf + jr * kc;
        int64_t j0 = 0;
        for (; j0 + 8 <= cols; j0 += 8) {
            int64_t p = 0;
            for (; p + 8 <= kc; p += 8) {
                __m256 r[8];
                for (int a = 0; a < 8; a++) r[a] = _mm256_loadu_ps(B + (jr + j0 + a) * ldb + p);
                nk_transpose8x8_store(r, dst + p * nr + j0, nr);
            }
            for (; p < kc; p++)
                for (int64_t a = 0; a < 8; a++) dst[p * nr + j0 + a] = B[(jr + j0 + a) * ldb + p];
        }
        for (int64_t p = 0; p < kc; p++) {
            for (int64_t j = j0; j < cols; j++) dst[p * nr + j] = B[(jr + j) * ldb + p];
            for (int64_t j = cols; j < nr; j++) dst[p * nr + j] = 0;
        }
    }
}
#endif

// Products with one row or one column of C (M = 1 or N = 1) as matrix-vector products: in the
// blocked GEMM above a single row (column) fills one of the micro-tile's 6 rows (one of its 16–32
// columns), so it ran at 1/6 (1/32) of the kernel's rate after packing a whole operand. Two forms,
// both reading the matrix once, where it lies:
//   rows form  y[j·ys] = alpha·Σ_k s[k·ss]·R[k·ldr + j] (+ beta·y) — the matrix's rows scaled and
//              summed in blocks of 1024 columns held in L1 (a stack buffer), each sum in k order:
//              every row's block is read sequentially (blocks of 64 columns in registers read
//              rows 36 KB apart that share one L1 set at 16–30 GFLOP/s, this 30–45 on Zen 4);
//   dot form   y[i·ys] = alpha·Σ_k R[i·ldr + k]·s[k] (+ beta·y) — 4 rows at a time against one
//              contiguous vector s (gathered first when strided), two vector sums per row added
//              lane by lane in a fixed order, the last k (fewer than a vector) one by one.
// beta = 0 writes y without reading it (as the GEMM, and BLAS: a NaN there is not propagated).
#define DEFINE_GEMV(NAME, T, VT, VL, ATTR)                                                      \
    ATTR static void NAME##_rows(int64_t n, int64_t K, const T *s, int64_t ss, const T *R, int64_t ldr, \
                                 T alpha, T beta, T *y, int64_t ys) {                         \
        enum { CB = 1024 };                                                                   \
        T acc[CB];                                                                            \
        for (int64_t j0 = 0; j0 < n; j0 += CB) {                                              \
            const int64_t cb = n - j0 < CB ? n - j0 : CB;                                     \
            memset(acc, 0, (size_t)cb * sizeof(T));                                           \
            for (int64_t k = 0; k < K; k++) {                                                 \
                const T sv = s[k * ss];                                                       \
                const T *r = R + k * ldr + j0;                                                \
                for (int64_t j = 0; j < cb; j++) acc[j] += sv * r[j];                         \
            }                                                                                 \
            for (int64_t j = 0; j < cb; j++) {                                                \
                T *yj = y + (j0 + j) * ys;                                                    \
                *yj = beta == (T)0 ? alpha * acc[j] : alpha * acc[j] + beta * *yj;            \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
    ATTR static inline __attribute__((always_inline)) T NAME##_hsum(VT v) {                   \
        T lanes[VL], t = 0;                                                                   \
        memcpy(lanes, &v, sizeof lanes);                                                      \
        for (int l = 0; l < (VL); l++) t += lanes[l];                                         \
        return t;                                                                             \
    }                                                                                         \
    /* rows [i0, i0 + ROWS) of the dot form, ROWS a constant at each call */                  \
    ATTR static inline __attribute__((always_inline)) void NAME##_dot_block(                  \
            const int ROWS, int64_t i0, int64_t K, const T *R, int64_t ldr, const T *s, T alpha, T beta, \
            T *y, int64_t ys) {                                                               \
        const int64_t kv = K / (2 * (VL)) * (2 * (VL));                                       \
        VT acc[4][2];                                                                         \
        for (int i = 0; i < ROWS; i++) acc[i][0] = acc[i][1] = (VT){0};                       \
        for (int64_t k = 0; k < kv; k += 2 * (VL)) {                                          \
            VT s0, s1;                                                                        \
            memcpy(&s0, s + k, sizeof(VT));                                                   \
            memcpy(&s1, s + k + (VL), sizeof(VT));                                            \
            for (int i = 0; i < ROWS; i++) {                                                  \
                VT r0, r1;                                                                    \
                memcpy(&r0, R + (i0 + i) * ldr + k, sizeof(VT));                              \
                memcpy(&r1, R + (i0 + i) * ldr + k + (VL), sizeof(VT));                       \
                acc[i][0] += r0 * s0;                                                         \
                acc[i][1] += r1 * s1;                                                         \
            }                                                                                 \
        }                                                                                     \
        const int64_t k1 = K - kv >= (VL) ? kv + (VL) : kv; /* one more vector of k */         \
        if (k1 > kv) {                                                                        \
            VT s0;                                                                            \
            memcpy(&s0, s + kv, sizeof(VT));                                                  \
            for (int i = 0; i < ROWS; i++) {                                                  \
                VT r0;                                                                        \
                memcpy(&r0, R + (i0 + i) * ldr + kv, sizeof(VT));                             \
                acc[i][0] += r0 * s0;                                                         \
            }                                                                                 \
        }                                                                                     \
        for (int i = 0; i < ROWS; i++) {                                                      \
            const T *r = R + (i0 + i) * ldr;                                                  \
            T t = NAME##_hsum(acc[i][0] + acc[i][1]);                                         \
            for (int64_t k = k1; k < K; k++) t += r[k] * s[k];                                \
            T *yi = y + (i0 + i) * ys;                                                        \
            *yi = beta == (T)0 ? alpha * t : alpha * t + beta * *yi;                          \
        }                                                                                     \
    }                                                                                         \
    ATTR static void NAME##_dot(int64_t m, int64_t K, const T *R, int64_t ldr, const T *s, T alpha, T beta, \
                                T *y, int64_t ys) {                                           \
        int64_t i0 = 0;                                                                       \
        for (; i0 + 4 <= m; i0 += 4) NAME##_dot_block(4, i0, K, R, ldr, s, alpha, beta, y, ys); \
        switch (m - i0) {                                                                     \
        case 3: NAME##_dot_block(3, i0, K, R, ldr, s, alpha, beta, y, ys); break;             \
        case 2: NAME##_dot_block(2, i0, K, R, ldr, s, alpha, beta, y, ys); break;             \
        case 1: NAME##_dot_block(1, i0, K, R, ldr, s, alpha, beta, y, ys); break;             \
        default: break;                                                                       \
        }                                                                                     \
    }

#ifdef NK_X86
DEFINE_GEMV(gemv_f32_avx512, float, f32x16, 16, ATTR_AVX512)
DEFINE_GEMV(gemv_f32_avx2, float, f32x8, 8, ATTR_AVX2)
DEFINE_GEMV(gemv_f64_avx512, double, f64x8, 8, ATTR_AVX512)
DEFINE_GEMV(gemv_f64_avx2, double, f64x4, 4, ATTR_AVX2)
#endif
DEFINE_GEMV(gemv_f32_generic, float, f32x4, 4, )
DEFINE_GEMV(gemv_f64_generic, double, f64x2, 2, )

// The two forms at the CPU's level; the dot form's vector gathered into scratch when strided.
#define DEFINE_GEMV_DISPATCH(SUFFIX, T)                                                          \
    static void gemv_rows_##SUFFIX(int64_t n, int64_t K, const T *s, int64_t ss, const T *R, int64_t ldr, \
                                   T alpha, T beta, T *y, int64_t ys) {                         \
        GEMV_LEVEL_CALL(SUFFIX, rows, n, K, s, ss, R, ldr, alpha, beta, y, ys);                  \
    }                                                                                           \
    static void gemv_dot_##SUFFIX(int64_t m, int64_t K, const T *R, int64_t ldr, const T *s, int64_t ss, \
                                  T alpha, T beta, T *y, int64_t ys) {                          \
        if (ss != 1) {                                                                          \
            T *g = (T *)scratch((size_t)K * sizeof(T));                                         \
            if (!g) abort();                                                                    \
            for (int64_t k = 0; k < K; k++) g[k] = s[k * ss];                                   \
            s = g;                                                                              \
        }                                                                                       \
        GEMV_LEVEL_CALL(SUFFIX, dot, m, K, R, ldr, s, alpha, beta, y, ys);                      \
    }
#ifdef NK_X86
#define GEMV_LEVEL_CALL(SUFFIX, FORM, ...)                                                      \
    do {                                                                                        \
        const int level_ = nk_cpu_level();                                                      \
        if (level_ >= 2) gemv_##SUFFIX##_avx512_##FORM(__VA_ARGS__);                             \
        else if (level_ == 1) gemv_##SUFFIX##_avx2_##FORM(__VA_ARGS__);                          \
        else gemv_##SUFFIX##_generic_##FORM(__VA_ARGS__);                                       \
    } while (0)
#else
#define GEMV_LEVEL_CALL(SUFFIX, FORM, ...) gemv_##SUFFIX##_generic_##FORM(__VA_ARGS__)
#endif
DEFINE_GEMV_DISPATCH(f32, float)
DEFINE_GEMV_DISPATCH(f64, double)

// C = alpha·op(A)·op(B) + beta·C for M = 1 or N = 1 by the forms above; 0 when neither.
#define DEFINE_GEMV_ENTRY(SUFFIX, T)                                                             \
    static int gemv_##SUFFIX(int transA, int transB, int64_t M, int64_t N, int64_t K, T alpha, const T *A, \
                             int64_t lda, const T *B, int64_t ldb, T beta, T *C, int64_t ldc) {  \
        if (M == 1) {                                                                           \
            /* a_k = op(A)[0, k]; C's row: n = N, stride 1 */                                   \
            const int64_t sa = transA ? lda : 1;                                                \
            if (transB) gemv_dot_##SUFFIX(N, K, B, ldb, A, sa, alpha, beta, C, 1);              \
            else gemv_rows_##SUFFIX(N, K, A, sa, B, ldb, alpha, beta, C, 1);                    \
            return 1;                                                                           \
        }                                                                                       \
        if (N == 1) {                                                                           \
            /* b_k = op(B)[k, 0]; C's column: m = M, stride ldc */                              \
            const int64_t sb = transB ? 1 : ldb;                                                \
            if (transA) gemv_rows_##SUFFIX(M, K, B, sb, A, lda, alpha, beta, C, ldc);           \
            else gemv_dot_##SUFFIX(M, K, A, lda, B, sb, alpha, beta, C, ldc);                   \
            return 1;                                                                           \
        }                                                                                       \
        return 0;                                                                               \
    }
DEFINE_GEMV_ENTRY(f32, float)
DEFINE_GEMV_ENTRY(f64, double)
#define GEMV(T, ...) _Generic((T)0, float: gemv_f32, default: gemv_f64)(__VA_ARGS__)

#define DEFINE_GEMM(NAME, T, UKT, UKFIELD, UKROWSFIELD, UKR4FIELD, UKR2FIELD, NRFIELD, UK2T, UK2FIELD, UK2ROWSFIELD, UK2CT, UK2CFIELD)     \
    static void NAME##_pack_a(int transA, int64_t mc, int64_t kc, T alpha, const T *A,         \
                              int64_t lda, T *buf) {                                           \
        if (PACK_A_FAST(T, transA, mc, kc, alpha, A, lda, buf)) return;                        \
        for (int64_t ir = 0; ir < mc; ir += MR) {                                              \
            int64_t rows = MIN(MR, mc - ir);                                                   \
            T *dst = buf + ir * kc;                                                            \
            if (transA && rows == MR) {                                                        \
                /* Aᵀ's whole panels: MR consecutive values of each row of the stored A, a */  \
                /* constant count the compiler copies in vectors (the general loop below */    \
                /* took 14 % of 1000×784×256 tn, Xeon) */                                      \
                for (int64_t p = 0; p < kc; p++) {                                             \
                    const T *src = A + p * lda + ir;                                           \
                    for (int i = 0; i < MR; i++) dst[p * MR + i] = alpha * src[i];             \
                }                                                                              \
                continue;                                                                      \
            }                                                                                  \
            for (int64_t p = 0; p < kc; p++) {                                                 \
                for (int64_t i = 0; i < rows; i++)                                             \
                    dst[p * MR + i] = alpha * (transA ? A[p * lda + ir + i] : A[(ir + i) * lda + p]); \
                for (int64_t i = rows; i < MR; i++) dst[p * MR + i] = 0;                       \
            }                                                                                  \
        }                                                                                      \
    }                                                                                          \
    /* B not transposed: row by row, each row's piece of every panel copied with a fixed-size */ \
    /* memcpy (one or two vector moves; a call per 128 bytes before) while the rows are read */  \
    /* in order. Panel by panel instead read kc rows ldb apart for each panel: 64×9216×128 on */ \
    /* a Xeon (Emerald Rapids) 98 → 101 GFLOP/s from this order and copy alone. */             \
    static void NAME##_pack_b(int transB, int64_t kc, int64_t nc, int64_t nr, const T *B,      \
                              int64_t ldb, T *buf) {                                           \
        if (transB && PACK_B_TRANS_FAST(T, kc, nc, nr, B, ldb, buf)) return;                   \
        if (!transB) {                                                                         \
            const int64_t full = nc / nr * nr;                                                 \
            for (int64_t p = 0; p < kc; p++) {                                                 \
                const T *src = B + p * ldb;                                                    \
                T *dst = buf + p * nr;                                                         \
                int64_t jr = 0;                                                                \
                if (nr * sizeof(T) == 128)                                                     \
                    for (; jr < full; jr += nr) memcpy(dst + jr * kc, src + jr, 128);          \
                else if (nr * sizeof(T) == 64)                                                 \
                    for (; jr < full; jr += nr) memcpy(dst + jr * kc, src + jr, 64);           \
                else                                                                           \
                    for (; jr < full; jr += nr) memcpy(dst + jr * kc, src + jr, (size_t)nr * sizeof(T)); \
                if (jr < nc) {                                                                 \
                    memcpy(dst + jr * kc, src + jr, (size_t)(nc - jr) * sizeof(T));            \
                    for (int64_t j = nc - jr; j < nr; j++) dst[jr * kc + j] = 0;               \
                }                                                                              \
            }                                                                                  \
            return;                                                                            \
        }                                                                                      \
        for (int64_t jr = 0; jr < nc; jr += nr) {                                              \
            int64_t cols = MIN(nr, nc - jr);                                                   \
            T *dst = buf + jr * kc;                                                            \
            for (int64_t p = 0; p < kc; p++) {                                                 \
                for (int64_t j = 0; j < cols; j++) dst[p * nr + j] = B[(jr + j) * ldb + p];    \
                for (int64_t j = cols; j < nr; j++) dst[p * nr + j] = 0;                       \
            }                                                                                  \
        }                                                                                      \
    }                                                                                          \
    void NAME(int transA, int transB, int64_t M, int64_t N, int64_t K, T alpha, const T *A,    \
              int64_t lda, const T *B, int64_t ldb, T beta, T *C, int64_t ldc) {               \
        if (M <= 0 || N <= 0) return;                                                          \
        if (K > 0 && alpha != (T)0 && GEMV(T, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) return; \
        /* float32 with B transposed (B stored [N, K]: a Linear layer's weight) under few rows */ \
        /* of A and a long sum: as Cᵀ = B·op(A)ᵀ into a scratch, then transposed into C. The */   \
        /* product then packs op(A)'s M·K values where it packed B's N·K, and adds the M·N of */  \
        /* the transpose. Xeon (Emerald Rapids), C timer, GFLOP/s, one thread, as it was → as */  \
        /* Cᵀ: 64×1000×784 110 → 151, 128×1000×784 130 → 148, 192×1000×784 146 → 155, */          \
        /* 32×4096×512 81 → 133, 64×128×9216 112 → 127, 16×1000×784 56 → 70; capped at AVX2 */     \
        /* 64×1000×784 70 → 85, 32×4096×512 54 → 78; generic 23 → 26. No gain at 256×1000×784 */   \
        /* (143 either way) nor where the sum is not longer than the rows (64×1000×64 116 → */    \
        /* 115, 96×1000×64 130 → 118). Not measured on AMD. Only with alpha = 1 (B's rows then */ \
        /* read in place; with another alpha they would be packed to scale them). */            \
        if (sizeof(T) == 4 && transB && alpha == (T)1 && beta == (T)0 && K > 0 && M <= 192 &&   \
            N >= 2 * M && K >= 2 * M) {                                                        \
            T *t = (T *)scratch_t((size_t)N * (size_t)M * sizeof(T));                          \
            if (!t) abort();                                                                   \
            NAME(0, !transA, N, M, K, (T)1, B, ldb, A, lda, (T)0, t, M);                       \
            nk_transpose_f32((const float *)t, M, N, M, (float *)C, ldc);                      \
            return;                                                                            \
        }                                                                                      \
        /* beta = 0 with a product to add: the first K block stores its tiles over C (no */    \
        /* clearing pass, no read of C); any other beta scales C first, then tiles add */      \
        const int direct = beta == (T)0 && K > 0 && alpha != (T)0;                             \
        if (beta != (T)1 && !direct) {                                                         \
            for (int64_t i = 0; i < M; i++) {                                                  \
                T *row = C + i * ldc;                                                          \
                if (beta == (T)0) memset(row, 0, (size_t)N * sizeof(T));                       \
                else for (int64_t j = 0; j < N; j++) row[j] *= beta;                           \
            }                                                                                  \
        }                                                                                      \
        if (K <= 0 || alpha == (T)0) return;                                                   \
        const kernel_set *ks = kernels();                                                      \
        UKT uk = ks->UKFIELD, ukRows = ks->UKROWSFIELD, ukR4 = ks->UKR4FIELD, ukR2 = ks->UKR2FIELD;    \
        UK2T uk2 = ks->UK2FIELD, uk2Rows = ks->UK2ROWSFIELD;                                   \
        UK2CT uk2Copy = ks->UK2CFIELD;                                                         \
        int64_t nr = ks->NRFIELD;                                                              \
        int64_t kcMax = MIN(KC, K);                                                            \
        const int aInPlace = alpha == (T)1 && (!transA || N <= 256);                           \
        /* B's block: up to NC columns (packed once per K block, read from L3 by every block */ \
        /* of MC rows); when A is read in place, re-reading A per block of B costs no packing, */ \
        /* so B's block is cut to a quarter of the L2 and every row block reads it from there */ \
        /* (half the L2 measured slower at 64×9216×128: 114 against 120). Xeon (Emerald */      \
        /* Rapids, 2 MiB L2: 256 columns at kc = 512, 1024 at kc = 128), GFLOP/s with B's */      \
        /* block 4096 columns → a quarter of the L2: 2048³ 141 → 146, 64×9216×128 102 → 120, */  \
        /* 64×4608×288 100 → 120, 256×1000×784 nt 137 → 144; with A packed (1000×784×256 tn) */  \
        /* 144 → 129 at 512 columns and 105 at 256, so not there. */                           \
        const int64_t ncBlock = aInPlace ? MIN(NC, MAX(nr, (int64_t)(nk_l2_bytes() / 4 / ((size_t)kcMax * sizeof(T))) / nr * nr)) : NC; \
        int64_t ncMax = MIN(ncBlock, ((N + nr - 1) / nr) * nr);                                \
        int64_t mcMax = MIN(MC, ((M + MR - 1) / MR) * MR);                                     \
        T *bufB = (T *)scratch(((size_t)ncMax * kcMax + (size_t)mcMax * kcMax) * sizeof(T) + 64); \
        if (!bufB) abort();                                                                    \
        T *bufA = bufB + (size_t)ncMax * kcMax;                                                \
        /* Operands read in place instead of packed where packing costs more than it saves: */ \
        /* B not transposed under few rows of A (each B value then serves few multiply-adds); */ \
        /* A's rows whenever alpha = 1 (the micro-kernel broadcasts from 6 row streams as */   \
        /* fast as from a packed panel, and the packing's 6-lane masked stores are slow on */  \
        /* AMD: in place measured faster from 64 to 2048 columns of B on Zen 4); Aᵀ in front */ \
        /* of at most 256 columns of B (a panel row there is 6 values of a long row of A, a */ \
        /* cache line each, so many columns of B favour the packed copy). Whole panels only: */ \
        /* a partial one is still packed (its vectors would read past the matrix). B is packed */ \
        /* after all when a panel row is one cache line or less (AVX2, baseline), B's rows lie */ \
        /* a multiple of 4 KiB apart and K ≤ 256: the panel's kc lines then share one L1 set */  \
        /* and evict one another before the next tile of rows reads them (Zen 4 at AVX2, */      \
        /* GFLOP/s in place against packed: 64×9216×128 72 / 88, 64×8192×64 67 / 90, 64×2048×128 */ \
        /* 87 / 92; unaliased, 9216 + 16 columns apart, 102 in place). With longer sums the */   \
        /* panel fills L1 either way and in place stays ahead (32×2048×512: 85 / 74), as it */   \
        /* does for AVX-512's two-line rows (64×9216×128: 88 / 85) — on Zen 4. On Intel cores */ \
        /* B is packed from 16 rows of A on: a Xeon (Emerald Rapids, AVX-512) measured in place */ \
        /* against packed (row-order packing, B's block in L2) 64×9216×128 82 / 119, 32×2048×512 */ \
        /* 53 / 87, 64×2048×512 61 / 116, 64×9000×128 91 / 121, 64×4608×288 84 / 122, */           \
        /* 64×784×1000 108 / 115, 16×9216×128 58 / 67, and in place ahead only at 64×1000×128 */  \
        /* 137 / 125 and 32×1000×784 91 / 86; 8 rows are even. Zen 4 has not measured the */      \
        /* row-order packing. */                                                                 \
        const int bAliased = (int64_t)(nr * sizeof(T)) <= 64 && K <= 256 && (ldb * (int64_t)sizeof(T)) % 4096 == 0; \
        const int bInPlace = !transB && M <= 96 && !bAliased && !(M >= 16 && nk_cpu_is_intel()); \
        /* B packed by the first tile that reads it, where few rows of A make the packing pass */ \
        /* a large share (a load and a store per value of B against M/16 multiply-adds): the */  \
        /* first two-panel tile of the first row block reads B's whole panels in place, stores */ \
        /* each vector it loads into the packed panel for the tiles after it and prefetches the */ \
        /* row two panels on. Xeon (Emerald Rapids), C timer, GFLOP/s packed first → packed by */ \
        /* the first tile, medians of alternating runs: 64×1024×128 127–136 → 150–157, */         \
        /* 64×784×1000 116 → 133–137, 128×1000×784 131 → 141–147, 64×4608×288 125 → 132–141, */  \
        /* 16×9216×128 71 → 76; without the prefetch 64×784×1000 gained ~6 %, 64×4608×288 nothing. */       \
        /* Where B's rows are a multiple of 4 KiB apart the first tile's rows share an L1 set */  \
        /* and a page each; with sums up to 256 long it gains all the same since the tiles' */    \
        /* accumulators stay in registers (C timer, packing pass → first tile: 64×1024×128 136 */ \
        /* → 160, 120×1024×128 151 → 166, 16×8192×256 73 → 81, 64×8192×64 tn 118 → 129, */        \
        /* 128×9216×64 tn 127 → 131, 64×9216×128 128 → 130), with longer ones it loses a little */ \
        /* (64×2048×512 120 → 116, 64×4096×384 123 → 121; 96×2048×512 and 32×2048×512 even), so */ \
        /* those keep the packing pass; so do more rows of A (1000×784×64 tn 0.89–1.01: the pass */ \
        /* is a small share there) and AMD cores, where it was not measured. */                   \
        const int bLazy = !transB && !bInPlace && uk2Copy && MIN(MC, M) >= 2 * MR && M <= 128 && \
                          ((ldb * (int64_t)sizeof(T)) % 4096 != 0 || K <= 256) && nk_cpu_is_intel(); \
        for (int64_t jc = 0; jc < N; jc += ncBlock) {                                          \
            int64_t nc = MIN(ncBlock, N - jc);                                                 \
            const int64_t ncFull = bInPlace ? nc / nr * nr : 0;                                \
            const int64_t ncLazy = bLazy ? nc / nr * nr : 0;                                   \
            for (int64_t pc = 0; pc < K; pc += KC) {                                           \
                int64_t kc = MIN(KC, K - pc);                                                  \
                const T *Bp = transB ? B + jc * ldb + pc : B + pc * ldb + jc;                  \
                const int64_t ncRead = MAX(ncFull, ncLazy);                                    \
                if (ncRead < nc)                                                               \
                    NAME##_pack_b(transB, kc, nc - ncRead, nr, Bp + ncRead, ldb, bufB + ncRead * kc); \
                for (int64_t ic = 0; ic < M; ic += MC) {                                       \
                    int64_t mc = MIN(MC, M - ic);                                              \
                    const T *Ap = transA ? A + pc * lda + ic : A + ic * lda + pc;              \
                    const int64_t mcFull = aInPlace ? mc / MR * MR : 0;                        \
                    if (mcFull < mc)                                                           \
                        NAME##_pack_a(transA, mc - mcFull, kc, alpha, transA ? Ap + mcFull : Ap + mcFull * lda, lda, \
                                      bufA + mcFull * kc);                                     \
                    for (int64_t jr = 0; jr < nc; jr += nr) {                                  \
                        const int64_t bs = jr < ncFull ? ldb : nr;                             \
                        const T *bp = jr < ncFull ? Bp + jr : bufB + jr * kc;                  \
                        for (int64_t ir = 0; ir < mc; ir += MR) {                              \
                            T *ct = C + (ic + ir) * ldc + jc + jr;                             \
                            const int64_t mr = MIN(MR, mc - ir), ncols = MIN(nr, nc - jr);     \
                            if (ic == 0 && ir == 0 && jr < ncLazy) { /* mc ≥ 2·MR: see bLazy */ \
                                if (mcFull == 0) /* A packed */                                \
                                    uk2Copy(kc, bufA, MR, 1, MR * kc, Bp + jr, ldb, bufB + jr * kc, ct, ldc, ncols, direct && pc == 0); \
                                else if (transA)                                               \
                                    uk2Copy(kc, Ap, lda, 1, MR, Bp + jr, ldb, bufB + jr * kc, ct, ldc, ncols, direct && pc == 0); \
                                else                                                           \
                                    uk2Copy(kc, Ap, 1, lda, MR * lda, Bp + jr, ldb, bufB + jr * kc, ct, ldc, ncols, direct && pc == 0); \
                                ir += MR;                                                      \
                                continue;                                                      \
                            }                                                                  \
                            /* two whole panels, both packed or both in place: one tile */     \
                            if (uk2 && ir + 2 * MR <= mc && (ir >= mcFull || ir + 2 * MR <= mcFull)) { \
                                if (ir >= mcFull)                                              \
                                    uk2(kc, bufA + ir * kc, MR, MR * kc, bp, bs, ct, ldc, ncols, direct && pc == 0); \
                                else if (transA)                                               \
                                    uk2(kc, Ap + ir, lda, MR, bp, bs, ct, ldc, ncols, direct && pc == 0); \
                                else                                                           \
                                    uk2Rows(kc, Ap + ir * lda, lda, MR * lda, bp, bs, ct, ldc, ncols, direct && pc == 0); \
                                ir += MR;                                                      \
                                continue;                                                      \
                            }                                                                  \
                            if (ir >= mcFull) {                                                \
                                /* A's last rows: a tile of as many rows as they need */       \
                                UKT ukA = mr <= 2 && ukR2 ? ukR2 : mr <= 4 && ukR4 ? ukR4 : uk;  \
                                ukA(kc, bufA + ir * kc, MR, bp, bs, ct, ldc, mr, ncols, direct && pc == 0); \
                            }                                                                  \
                            else if (transA)                                                   \
                                uk(kc, Ap + ir, lda, bp, bs, ct, ldc, mr, ncols, direct && pc == 0); \
                            else                                                               \
                                ukRows(kc, Ap + ir * lda, lda, bp, bs, ct, ldc, mr, ncols, direct && pc == 0); \
                        }                                                                      \
                    }                                                                          \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }

#ifdef NK_X86
// float32 A stored [M, K] packed in panels of MR = 6 rows, dst[p·6 + i] = alpha·A[(ir + i)·lda + p]:
// 8 reductions of the 6 rows at a time through an 8×8 register transpose (2 rows of zeros), each
// transposed row stored as its 6 live lanes; edges element by element. With alpha = 1 whole
// panels are read in place (DEFINE_GEMM's aInPlace), so this serves the public API's alpha ≠ 1 and
// partial panels (which take the element loop).
__attribute__((target("avx2,fma"))) static void pack_a_f32_avx2(int64_t mc, int64_t kc, float alpha, const float *A, int64_t lda,
                                                              float *buf) {
    const __m256i six = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
    const __m256 al = _mm256_set1_ps(alpha);
    for (int64_t ir = 0; ir < mc; ir += MR) {
        const int64_t rows = MIN(MR, mc - ir);
        float *dst = buf + ir * kc;
        int64_t p = 0;
        if (rows == MR) {
            for (; p + 8 <= kc; p += 8) {
                __m256 r[8];
                for (int a = 0; a < 6; a++) r[a] = _mm256_mul_ps(al, _mm256_loadu_ps(A + (ir + a) * lda + p));
                r[6] = r[7] = _mm256_setzero_ps();
                __m256 t[8];
                nk_transpose8x8(r, t);
                for (int a = 0; a < 8; a++) _mm256_maskstore_ps(dst + (p + a) * MR, six, t[a]);
            }
        }
        for (; p < kc; p++) {
            for (int64_t i = 0; i < rows; i++) dst[p * MR + i] = alpha * A[(ir + i) * lda + p];
            for (int64_t i = rows; i < MR; i++) dst[p * MR + i] = 0;
        }
    }
}
#endif

static inline int pack_a_fast_f32(int transA, int64_t mc, int64_t kc, float alpha, const void *A, int64_t lda, void *buf) {
#ifdef NK_X86
    if (!transA && nk_cpu_level() >= 1) { pack_a_f32_avx2(mc, kc, alpha, (const float *)A, lda, (float *)buf); return 1; }
#endif
    (void)transA; (void)mc; (void)kc; (void)alpha; (void)A; (void)lda; (void)buf;
    return 0;
}
static inline int pack_a_fast_none(int transA, int64_t mc, int64_t kc, double alpha, const void *A, int64_t lda, void *buf) {
    (void)transA; (void)mc; (void)kc; (void)alpha; (void)A; (void)lda; (void)buf;
    return 0;
}
#define PACK_A_FAST(T, transA, mc, kc, alpha, A, lda, buf) \
    _Generic((A), const float *: pack_a_fast_f32, default: pack_a_fast_none)((transA), (mc), (kc), (alpha), (A), (lda), (buf))

// The transposed-B packing above for float32 at AVX2 and up (1 when it ran; 0: the caller packs
// element by element, as for float64).
static inline int pack_b_trans_fast_f32(int64_t kc, int64_t nc, int64_t nr, const void *B, int64_t ldb, void *buf) {
#ifdef NK_X86
    if (nk_cpu_level() >= 1) { pack_b_trans_f32_avx2(kc, nc, nr, (const float *)B, ldb, (float *)buf); return 1; }
#endif
    (void)kc; (void)nc; (void)nr; (void)B; (void)ldb; (void)buf;
    return 0;
}
static inline int pack_b_trans_fast_none(int64_t kc, int64_t nc, int64_t nr, const void *B, int64_t ldb, void *buf) {
    (void)kc; (void)nc; (void)nr; (void)B; (void)ldb; (void)buf;
    return 0;
}
#define PACK_B_TRANS_FAST(T, kc, nc, nr, B, ldb, buf) \
    _Generic((B), const float *: pack_b_trans_fast_f32, default: pack_b_trans_fast_none)((kc), (nc), (nr), (B), (ldb), (buf))

DEFINE_GEMM(nk_sgemm, float, uk_f32, f32, f32rows, f32r4, f32r2, nr32, uk2_f32, f32x2, f32rowsx2, uk2c_f32, f32x2copy)
DEFINE_GEMM(nk_dgemm, double, uk_f64, f64, f64rows, f64r4, f64r2, nr64, uk2_f64, f64x2, f64rowsx2, uk2c_f64, f64x2copy)
