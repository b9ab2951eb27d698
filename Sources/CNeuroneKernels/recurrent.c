// The cells of the recurrent layers (RNN, LSTM, GRU; PyTorch's gate orders), one time step for
// rows [r0, r1) of a batch: the gates' activations and the state update fused in one pass over
// each row, and the backward pass of the same. float32 takes its sigmoid and tanh from the
// vectorised maps of elementwise.c and is compiled for AVX-512, AVX2+FMA and the baseline, chosen
// at run time; float64 (gradient checks) takes them from libm.
#include "neurone_kernels.h"
#include <math.h>
#include "cpu_level.h"
#include "nk_sigmoid_tanh.h"

#pragma STDC FP_CONTRACT ON

#if defined(__x86_64__) || defined(__i386__)
#define NK_X86 1
#endif

static inline void sig_f32(float *y, int64_t n) { nk_sigmoid_f32(y, y, n); }
static inline void tanh_f32(const float *x, float *y, int64_t n) { nk_tanh_f32(x, y, n); }
static inline void sig_f64(double *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) { double x = y[i], e = exp(-fabs(x)), s = 1.0 / (1.0 + e); y[i] = x >= 0 ? s : e * s; }
}
static inline void tanh_f64(const double *x, double *y, int64_t n) { for (int64_t i = 0; i < n; i++) y[i] = tanh(x[i]); }

// The gradient from outside at a step's h; has_e 0: none arrives (zeros), e is not read.
#define EXT(e, j) (has_e ? (e)[j] : 0)

// One LSTM row of the backward pass in one loop: tanh(c') recomputed in registers, the four gates'
// gradients and the carried dL/dc. The buffers never overlap (the saved gates and states, the
// gradients from outside and carried, the new gate gradients), which `restrict` and the loop hint
// state: with a tanh pass into a stack buffer and the compiler left to check the pointers for
// overlap at run time, the float32 loop ran scalar (~3.3x slower on Zen 4). float64's loop calls
// libm's tanh, so it has no hint.
#define LOOP_HINT_f32 _Pragma("clang loop vectorize(assume_safety) interleave_count(1)")
#define LOOP_HINT_f64
#define TANH1_f32 nk_tanhf
#define TANH1_f64 tanh
#define DEFINE_LSTM_ROW_BACKWARD(SUFFIX, T)                                                                   \
static inline __attribute__((always_inline)) void lstm_row_backward_##SUFFIX(                                 \
        int64_t H, const T *restrict g, const T *restrict cp, const T *restrict c, const T *restrict carried,   \
        const T *restrict e, const int has_e, T *restrict dc, T *restrict d) {                                \
    LOOP_HINT_##SUFFIX                                                                                        \
    for (int64_t j = 0; j < H; j++) {                                                                         \
        T i = g[j], f = g[H + j], gg = g[2 * H + j], og_ = g[3 * H + j], t = TANH1_##SUFFIX(c[j]);             \
        T dh = carried[j] + EXT(e, j);                                                                        \
        T dcv = dc[j] + dh * og_ * (1 - t * t);                                                               \
        d[j] = dcv * gg * i * (1 - i);                                                                        \
        d[H + j] = dcv * cp[j] * f * (1 - f);                                                                 \
        d[2 * H + j] = dcv * i * (1 - gg * gg);                                                               \
        d[3 * H + j] = dh * t * og_ * (1 - og_);                                                              \
        dc[j] = dcv * f;                                                                                      \
    }                                                                                                         \
}
DEFINE_LSTM_ROW_BACKWARD(f32, float)
DEFINE_LSTM_ROW_BACKWARD(f64, double)

#define DEFINE_BODIES(SUFFIX, T)                                                                              \
static inline __attribute__((always_inline)) void step_##SUFFIX(                                              \
        int32_t kind, int64_t r0, int64_t r1, int64_t H, T *gates, T *hgates, const T *hbias,                 \
        const T *ph, int64_t phs, const T *pc, int64_t pcs, T *out, int64_t outs) {                           \
    int64_t G = kind == NK_RECURRENT_LSTM ? 4 : kind == NK_RECURRENT_GRU ? 3 : 1;                             \
    for (int64_t r = r0; r < r1; r++) {                                                                       \
        T *o = out + r * outs, *g = gates + r * G * H, *hg = hgates ? hgates + r * G * H : 0;                 \
        const T *hp = ph + r * phs;                                                                           \
        if (kind == NK_RECURRENT_GRU) {                                                                       \
            if (hbias) for (int64_t j = 0; j < 3 * H; j++) hg[j] += hbias[j];                                 \
            for (int64_t j = 0; j < 2 * H; j++) g[j] += hg[j];                                                \
            sig_##SUFFIX(g, 2 * H);                                                                           \
            for (int64_t j = 0; j < H; j++) g[2 * H + j] += g[j] * hg[2 * H + j];                             \
            tanh_##SUFFIX(g + 2 * H, g + 2 * H, H);                                                           \
            for (int64_t j = 0; j < H; j++) { T z = g[H + j], n = g[2 * H + j]; o[j] = n + z * (hp[j] - n); } \
            continue;                                                                                         \
        }                                                                                                     \
        if (kind == NK_RECURRENT_RNN_TANH) tanh_##SUFFIX(g, o, H);                                            \
        else if (kind == NK_RECURRENT_RNN_RELU) {                                                             \
            for (int64_t j = 0; j < H; j++) { T v = g[j]; o[j] = v > 0 ? v : (v == v ? (T)0 : v); }          \
        } else {                                                                                              \
            const T *cp = pc + r * pcs;                                                                       \
            sig_##SUFFIX(g, 2 * H); tanh_##SUFFIX(g + 2 * H, g + 2 * H, H); sig_##SUFFIX(g + 3 * H, H);       \
            T *c = o + H;                                                                                     \
            for (int64_t j = 0; j < H; j++) c[j] = g[H + j] * cp[j] + g[j] * g[2 * H + j];                  \
            tanh_##SUFFIX(c, o, H);                                                                           \
            for (int64_t j = 0; j < H; j++) o[j] *= g[3 * H + j];                                             \
        }                                                                                                     \
    }                                                                                                         \
}                                                                                                             \
/* One row of the backward pass. has_e is a constant at each call: a loop that tested e per    */ \
/* element became a masked load from e, and from NULL (every step but the last of a classifier */ \
/* that reads the final h) AMD CPUs take that load's fault suppression as a microcode assist,  */ \
/* ~15 cycles an element instead of ~1.                                                         */ \
static inline __attribute__((always_inline)) void row_backward_##SUFFIX(                                      \
        int32_t kind, int64_t r, int64_t H, const T *gates, const T *hgates, const T *ph, int64_t phs,        \
        const T *pc, int64_t pcs, const T *o, const T *e, int has_e, const T *carried, T *cc, T *dgates,      \
        T *dhgates, T *dph) {                                                                                 \
    if (kind == NK_RECURRENT_RNN_TANH || kind == NK_RECURRENT_RNN_RELU) {                                     \
        T *d = dgates + r * H;                                                                                \
        if (kind == NK_RECURRENT_RNN_TANH)                                                                    \
            for (int64_t j = 0; j < H; j++) { T h = o[j]; d[j] = (carried[j] + EXT(e, j)) * (1 - h * h); }    \
        else                                                                                                  \
            for (int64_t j = 0; j < H; j++) { T dh = carried[j] + EXT(e, j); d[j] = o[j] > 0 ? dh : 0; }      \
    } else if (kind == NK_RECURRENT_LSTM) {                                                                   \
        lstm_row_backward_##SUFFIX(H, gates + r * 4 * H, pc + r * pcs, o + H, carried, e, has_e, cc + r * H,    \
                                   dgates + r * 4 * H);                                                       \
    } else {                                                                                                  \
        /* dph may be ch itself: each element is read before it is written, in the same iteration, */       \
        /* so the loop has no dependence between iterations (the hint: checked at run time for its   */       \
        /* eight pointers, the loop ran scalar)                                                      */       \
        const T *g = gates + r * 3 * H, *hg = hgates + r * 3 * H, *hp = ph + r * phs;                         \
        T *d = dgates + r * 3 * H, *dhg = dhgates + r * 3 * H, *dp = dph + r * H;                             \
        LOOP_HINT_##SUFFIX                                                                                    \
        for (int64_t j = 0; j < H; j++) {                                                                     \
            T rr = g[j], z = g[H + j], n = g[2 * H + j], hn = hg[2 * H + j];                                  \
            T dh = carried[j] + EXT(e, j);                                                                    \
            T dpn = dh * (1 - z) * (1 - n * n);                                                               \
            T dpr = dpn * hn * rr * (1 - rr);                                                                 \
            T dpz = dh * (hp[j] - n) * z * (1 - z);                                                           \
            d[j] = dpr; d[H + j] = dpz; d[2 * H + j] = dpn;                                                   \
            dhg[j] = dpr; dhg[H + j] = dpz; dhg[2 * H + j] = dpn * rr;                                        \
            dp[j] = dh * z;                                                                                   \
        }                                                                                                     \
    }                                                                                                         \
}                                                                                                             \
static inline __attribute__((always_inline)) void step_backward_##SUFFIX(                                     \
        int32_t kind, int64_t r0, int64_t r1, int64_t H, const T *gates, const T *hgates, const T *ph,        \
        int64_t phs, const T *pc, int64_t pcs, const T *out, int64_t outs, const T *og, int64_t ogs,          \
        const T *ch, T *cc, T *dgates, T *dhgates, T *dph) {                                                  \
    for (int64_t r = r0; r < r1; r++) {                                                                       \
        const T *o = out + r * outs, *carried = ch + r * H;                                                   \
        if (og)                                                                                               \
            row_backward_##SUFFIX(kind, r, H, gates, hgates, ph, phs, pc, pcs, o, og + r * ogs, 1, carried,   \
                                  cc, dgates, dhgates, dph);                                                  \
        else                                                                                                  \
            row_backward_##SUFFIX(kind, r, H, gates, hgates, ph, phs, pc, pcs, o, 0, 0, carried, cc, dgates,  \
                                  dhgates, dph);                                                              \
    }                                                                                                         \
}
DEFINE_BODIES(f32, float)
DEFINE_BODIES(f64, double)

#define STEP_ARGS(T) int32_t kind, int64_t r0, int64_t r1, int64_t H, T *gates, T *hgates, const T *hbias, \
                     const T *ph, int64_t phs, const T *pc, int64_t pcs, T *out, int64_t outs
#define STEP_PASS kind, r0, r1, H, gates, hgates, hbias, ph, phs, pc, pcs, out, outs
#define BACK_ARGS(T) int32_t kind, int64_t r0, int64_t r1, int64_t H, const T *gates, const T *hgates, const T *ph, \
                     int64_t phs, const T *pc, int64_t pcs, const T *out, int64_t outs, const T *og, int64_t ogs, \
                     const T *ch, T *cc, T *dgates, T *dhgates, T *dph
#define BACK_PASS kind, r0, r1, H, gates, hgates, ph, phs, pc, pcs, out, outs, og, ogs, ch, cc, dgates, dhgates, dph

#ifdef NK_X86
__attribute__((target("avx512f,avx512dq,avx2,fma"))) static void step_f32_avx512(STEP_ARGS(float)) { step_f32(STEP_PASS); }
__attribute__((target("avx2,fma"))) static void step_f32_avx2(STEP_ARGS(float)) { step_f32(STEP_PASS); }
__attribute__((target("avx512f,avx512dq,avx2,fma"))) static void back_f32_avx512(BACK_ARGS(float)) { step_backward_f32(BACK_PASS); }
__attribute__((target("avx2,fma"))) static void back_f32_avx2(BACK_ARGS(float)) { step_backward_f32(BACK_PASS); }
#endif

void nk_recurrent_step_f32(STEP_ARGS(float)) {
#ifdef NK_X86
    int level = nk_cpu_level();
    if (level == 2) { step_f32_avx512(STEP_PASS); return; }
    if (level == 1) { step_f32_avx2(STEP_PASS); return; }
#endif
    step_f32(STEP_PASS);
}
void nk_recurrent_step_backward_f32(BACK_ARGS(float)) {
#ifdef NK_X86
    int level = nk_cpu_level();
    if (level == 2) { back_f32_avx512(BACK_PASS); return; }
    if (level == 1) { back_f32_avx2(BACK_PASS); return; }
#endif
    step_backward_f32(BACK_PASS);
}
void nk_recurrent_step_f64(STEP_ARGS(double)) { step_f64(STEP_PASS); }
void nk_recurrent_step_backward_f64(BACK_ARGS(double)) { step_backward_f64(BACK_PASS); }
