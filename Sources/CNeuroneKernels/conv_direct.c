// Direct 2-D convolution, stride 1, for layers with short im2col columns (few input channels ×
// taps), where packing a GEMM costs more than the arithmetic. float32, NCHW, groups = 1.
//
// "Wide rows": the input is pre-padded to Hp×Wp, and each output plane is computed at width Wp
// (the last Wp − ow entries of each row are garbage and dropped), so every tap (i, j) is one
// contiguous multiply-add over L = (oh − 1)·Wp + ow elements starting at i·dh·Wp + j·dw:
//   wide[t] += w[o,c,i,j] · xpad[n,c][t + i·dh·Wp + j·dw],   out[oy, ox] = wide[oy·Wp + ox].
// The gradients use the same indexing with the output gradient widened to Wp (zeros in the
// garbage columns). dims = {N, C, Hp, Wp, O, kh, kw, dh, dw, oh, ow}.
#include "neurone_kernels.h"
#include "cpu_level.h"
#include <stdlib.h>

#pragma STDC FP_CONTRACT ON

typedef struct { int64_t n, c, hp, wp, o, kh, kw, dh, dw, oh, ow; } wide_shape;

static wide_shape shape_of(const int64_t *d) {
    wide_shape s = {d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10]};
    return s;
}

static inline __attribute__((always_inline)) void fwd_plane(const wide_shape *s, const float *xpad, const float *w, float bias,
                                                            int64_t n, int64_t o, float *wide, float *y) {
    const int64_t len = (s->oh - 1) * s->wp + s->ow;
    for (int64_t t = 0; t < len; t++) wide[t] = bias;
    for (int64_t c = 0; c < s->c; c++) {
        const float *plane = xpad + (n * s->c + c) * s->hp * s->wp;
        for (int64_t i = 0; i < s->kh; i++)
            for (int64_t j = 0; j < s->kw; j++) {
                const float wv = w[((o * s->c + c) * s->kh + i) * s->kw + j];
                const float *src = plane + i * s->dh * s->wp + j * s->dw;
                for (int64_t t = 0; t < len; t++) wide[t] += wv * src[t];
            }
    }
    float *out = y + (n * s->o + o) * s->oh * s->ow;
    for (int64_t oy = 0; oy < s->oh; oy++)
        for (int64_t ox = 0; ox < s->ow; ox++) out[oy * s->ow + ox] = wide[oy * s->wp + ox];
}

static inline __attribute__((always_inline)) void bwd_weight_channel(const wide_shape *s, const float *xpad, const float *gwide,
                                                                     int64_t o, float *gw) {
#pragma clang fp reassociate(on)
    const int64_t len = (s->oh - 1) * s->wp + s->ow;
    for (int64_t c = 0; c < s->c; c++)
        for (int64_t i = 0; i < s->kh; i++)
            for (int64_t j = 0; j < s->kw; j++) {
                float acc = 0;
                for (int64_t n = 0; n < s->n; n++) {
                    const float *g = gwide + (n * s->o + o) * s->oh * s->wp;
                    const float *src = xpad + (n * s->c + c) * s->hp * s->wp + i * s->dh * s->wp + j * s->dw;
                    for (int64_t t = 0; t < len; t++) acc += g[t] * src[t];
                }
                gw[((o * s->c + c) * s->kh + i) * s->kw + j] = acc;
            }
}

static inline __attribute__((always_inline)) void bwd_input_plane(const wide_shape *s, const float *gwide, const float *w,
                                                                  int64_t n, int64_t c, float *gxpad) {
    const int64_t len = (s->oh - 1) * s->wp + s->ow;
    float *plane = gxpad + (n * s->c + c) * s->hp * s->wp;
    for (int64_t o = 0; o < s->o; o++) {
        const float *g = gwide + (n * s->o + o) * s->oh * s->wp;
        for (int64_t i = 0; i < s->kh; i++)
            for (int64_t j = 0; j < s->kw; j++) {
                const float wv = w[((o * s->c + c) * s->kh + i) * s->kw + j];
                float *dst = plane + i * s->dh * s->wp + j * s->dw;
                for (int64_t t = 0; t < len; t++) dst[t] += wv * g[t];
            }
    }
}

#if defined(__x86_64__) || defined(__i386__)
#define VARIANTS(NAME, ARGS, CALL)                                                                 \
    __attribute__((target("avx512f,avx512dq,avx2,fma"))) static void NAME##_avx512 ARGS { CALL; }  \
    __attribute__((target("avx2,fma"))) static void NAME##_avx2 ARGS { CALL; }                       \
    static void NAME##_base ARGS { CALL; }
#define PICK(NAME) (nk_cpu_level() >= 2 ? NAME##_avx512 : nk_cpu_level() == 1 ? NAME##_avx2 : NAME##_base)
#else
#define VARIANTS(NAME, ARGS, CALL) static void NAME##_base ARGS { CALL; }
#define PICK(NAME) NAME##_base
#endif

VARIANTS(fwd, (const wide_shape *s, const float *x, const float *w, float b, int64_t n, int64_t o, float *wide, float *y),
         fwd_plane(s, x, w, b, n, o, wide, y))
VARIANTS(bww, (const wide_shape *s, const float *x, const float *g, int64_t o, float *gw), bwd_weight_channel(s, x, g, o, gw))
VARIANTS(bwi, (const wide_shape *s, const float *g, const float *w, int64_t n, int64_t c, float *gx), bwd_input_plane(s, g, w, n, c, gx))

void nk_conv2d_direct_f32(const int64_t *dims, const float *xpad, const float *w, const float *bias, float *y,
                          int64_t plane0, int64_t plane1) {
    wide_shape s = shape_of(dims);
    float *wide = malloc((size_t)(s.oh * s.wp) * sizeof(float));
    if (!wide) abort();
    void (*f)(const wide_shape *, const float *, const float *, float, int64_t, int64_t, float *, float *) = PICK(fwd);
    for (int64_t p = plane0; p < plane1; p++) f(&s, xpad, w, bias ? bias[p % s.o] : 0.0f, p / s.o, p % s.o, wide, y);
    free(wide);
}

void nk_conv2d_direct_bwd_weight_f32(const int64_t *dims, const float *xpad, const float *gwide, float *gw, int64_t o0, int64_t o1) {
    wide_shape s = shape_of(dims);
    void (*f)(const wide_shape *, const float *, const float *, int64_t, float *) = PICK(bww);
    for (int64_t o = o0; o < o1; o++) f(&s, xpad, gwide, o, gw);
}

void nk_conv2d_direct_bwd_input_f32(const int64_t *dims, const float *gwide, const float *w, float *gxpad, int64_t plane0, int64_t plane1) {
    wide_shape s = shape_of(dims);
    void (*f)(const wide_shape *, const float *, const float *, int64_t, int64_t, float *) = PICK(bwi);
    for (int64_t p = plane0; p < plane1; p++) f(&s, gwide, w, p / s.c, p % s.c, gxpad);
}
