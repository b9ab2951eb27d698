// Neurone's C kernels: the few loops that must run at full vector width in a default
// `swift build -c release` (which targets baseline x86-64). Each kernel is compiled several
// times with __attribute__((target(...))) and chosen once at run time from the CPU's features,
// so the package builds with no unsafe flags and runs on any x86-64 or arm64 machine.
#ifndef NEURONE_KERNELS_H
#define NEURONE_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Row-major GEMM: C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C.
/// op(A) is A (lda >= K) or, when transA != 0, Aᵀ with A stored [K,M] (lda >= M); same for B.
/// Single-threaded; the caller splits rows across threads.
void nk_sgemm(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
              const float *A, int64_t lda, const float *B, int64_t ldb,
              float beta, float *C, int64_t ldc);
void nk_dgemm(int transA, int transB, int64_t M, int64_t N, int64_t K, double alpha,
              const double *A, int64_t lda, const double *B, int64_t ldb,
              double beta, double *C, int64_t ldc);

/// The name of the micro-kernel chosen for this CPU: "avx512", "avx2" or "generic".
const char *nk_gemm_kernel_name(void);
/// Rows per micro-tile: callers split M across threads in multiples of this.
int64_t nk_gemm_mr(void);
/// Columns per micro-tile of the chosen kernel (float32, or float64 when isDouble ≠ 0): callers
/// split N across threads in multiples of this.
int64_t nk_gemm_nr(int32_t isDouble);

/// y[i] = f(x[i]) for i < n, float32, vectorised with a polynomial exp (max error ~2 ulp).
/// x and y may be the same buffer.
void nk_exp_f32(const float *x, float *y, int64_t n);
void nk_sigmoid_f32(const float *x, float *y, int64_t n);
void nk_tanh_f32(const float *x, float *y, int64_t n);

/// The activations the layer kernels apply in their output pass and take the gradients of: the
/// one list of their codes, which Swift maps FusedActivation onto (NeuroneCPU, `kernelCode`).
/// Every `op`/`act` argument below is one of these (−1 where a kernel takes "none").
enum {
    NK_ACTIVATION_RELU = 0,     /* y < 0 ? 0 : y (NaN and −0 kept); gradient from the input: 0 where x <= 0 */
    NK_ACTIVATION_TANH = 1,     /* gradient from the output: 1 − y² */
    NK_ACTIVATION_SIGMOID = 2,  /* gradient from the output: y(1 − y) */
};

/// y[i] = f(y[i]) in place for i < n: op 0 = relu (NaN and −0 kept), 1 = tanh, 2 = sigmoid (the
/// maps above); the epilogue of layers that fuse their activation.
void nk_activation_f32(int32_t op, float *y, int64_t n);

/// Activation gradients, out = g · f′: op 0 = relu (s = input; 0 where s <= 0), 1 = tanh
/// (s = output; 1 − s²), 2 = sigmoid (s = output; s(1 − s)).
void nk_activation_grad_f32(int32_t op, const float *g, const float *s, float *out, int64_t n);
void nk_activation_grad_f64(int32_t op, const double *g, const double *s, double *out, int64_t n);
/// g, s: [chunk, rows, len]; out: [rows, chunk·len] = g·f′(s) (op ≥ 0; nothing written when
/// op < 0) and rowSum[r] += the sum of row r of out (of g's pieces of row r when op < 0) when
/// rowSum is not NULL.
void nk_activation_grad_rows_f32(int32_t op, const float *g, const float *s, float *out, int64_t rows, int64_t chunk, int64_t len,
                                 float *rowSum);
/// Planes p0 ..< p1 of rows × len values (g; s when op ≥ 0) to planes of rows × wide values in out
/// (each row's last wide − len set to 0): g·f′(s), or g when op < 0; planeSum[p] = the sum of
/// plane p's values when planeSum is not NULL.
void nk_activation_grad_widen_f32(int32_t op, const float *g, const float *s, float *out, int64_t rows, int64_t len, int64_t wide,
                                  float *planeSum, int64_t p0, int64_t p1);

/// The recurrent cells (recurrent.c), one time step for rows [r0, r1) of H units; kind is one of:
enum {
    NK_RECURRENT_RNN_TANH = 0, NK_RECURRENT_RNN_RELU = 1,
    NK_RECURRENT_LSTM = 2,     /* gates i, f, g, o; out holds h' then c' in each row */
    NK_RECURRENT_GRU = 3,      /* gates r, z, n; hgates = W_hh·h, to which hbias (or NULL) is added */
};
/// Forward: gates [rows, G·H] pre-activations → activations (kept for the backward pass); for RNN
/// and LSTM W_hh·h is already in gates (nk_linear_packed_add_f32), GRU takes hgates [rows, 3H]
/// (W_hh·h) and hbias apart, NULL for the others; ph, pc the state before
/// (row strides phs, pcs; pc LSTM only); out (row stride outs) gets h' (and c').
void nk_recurrent_step_f32(int32_t kind, int64_t r0, int64_t r1, int64_t H, float *gates, float *hgates,
                           const float *hbias, const float *ph, int64_t phs, const float *pc, int64_t pcs,
                           float *out, int64_t outs);
void nk_recurrent_step_f64(int32_t kind, int64_t r0, int64_t r1, int64_t H, double *gates, double *hgates,
                           const double *hbias, const double *ph, int64_t phs, const double *pc, int64_t pcs,
                           double *out, int64_t outs);
/// Backward: dL/dh' = og (row stride ogs; NULL: no gradient from outside) + ch [rows, H];
/// LSTM: cc in dL/dc' (carried, and from outside), out dL/dc before. Writes dgates [rows, G·H] (of the
/// pre-activations); GRU also dhgates [rows, 3H] (of W_hh·h + b_hh) and dph [rows, H] (dh'·z).
void nk_recurrent_step_backward_f32(int32_t kind, int64_t r0, int64_t r1, int64_t H, const float *gates,
                                    const float *hgates, const float *ph, int64_t phs, const float *pc, int64_t pcs,
                                    const float *out, int64_t outs, const float *og, int64_t ogs, const float *ch,
                                    float *cc, float *dgates, float *dhgates, float *dph);
void nk_recurrent_step_backward_f64(int32_t kind, int64_t r0, int64_t r1, int64_t H, const double *gates,
                                    const double *hgates, const double *ph, int64_t phs, const double *pc, int64_t pcs,
                                    const double *out, int64_t outs, const double *og, int64_t ogs, const double *ch,
                                    double *cc, double *dgates, double *dhgates, double *dph);

/// Layer normalisation over rows of `cols` float32 values (rows [r0, r1)): y = (x − mean)·rstd·w + b,
/// w and b optional (NULL), the row's mean and 1/sqrt(var + eps) stored where mean/rstd are not NULL;
/// the statistics are summed in double.
void nk_layer_norm_f32(int64_t r0, int64_t r1, int64_t cols, const float *x, const float *w, const float *b, double eps,
                       float *y, float *mean, float *rstd);
/// Its backward pass: dL/dx for rows [r0, r1) (w optional), and dL/dw, dL/db (either NULL) for
/// columns [c0, c1) summed over all rows in double.
void nk_layer_norm_backward_rows_f32(int64_t r0, int64_t r1, int64_t cols, const float *x, const float *w, const float *mean,
                                     const float *rstd, const float *gy, float *gx);
void nk_layer_norm_backward_cols_f32(int64_t rows, int64_t cols, int64_t c0, int64_t c1, const float *x, const float *mean,
                                     const float *rstd, const float *gy, float *gw, float *gb);

/// Ct[n, m] (+)= Σ_k x[k, n]·g[k, m] for m in [m0, m1), n < N (Ct = dWᵀ [N, M], row stride ldct), g [K, M] and
/// x [K, N] read in place (row strides ldg, ldx); db[m] (+)= Σ_k g[k, m] where db is not NULL.
/// accumulate 0: Ct (and db) are overwritten. Split m over threads at multiples of 32 (the vector tiles' width;
/// past the last whole 32 columns tiles of 16 and 8 where they fit, the rest masked vectors (AVX2: plain loops)).
void nk_wgrad_rows_f32(const float *g, int64_t ldg, const float *x, int64_t ldx, int64_t K, int64_t M, int64_t N, int64_t m0,
                       int64_t m1, float *ct, int64_t ldct, float *db, int accumulate);
/// dst [cols, rows] = srcᵀ for src [rows, cols] at row stride lds, dst at row stride ldd.
void nk_transpose_f32(const float *src, int64_t lds, int64_t rows, int64_t cols, float *dst, int64_t ldd);

/// Copies an N-d strided view into another: dst[idx] = src[idx] for every index of `shape`.
/// Strides are in elements; elemSize is 1, 2, 4 or 8 bytes.
void nk_copy_strided(int64_t elemSize, int64_t ndim, const int64_t *shape,
                     const void *src, const int64_t *srcStrides,
                     void *dst, const int64_t *dstStrides);

/// A float32 fully connected layer y = x·Wᵀ + b for reductions of small layers (linear.c): W [N, K] is first
/// packed by nk_linear_pack_f32 into ⌈N/16⌉·K·16 values; nk_linear_packed_f32 then computes rows
/// [m0, m1) of y (row stride ldy) from x (row stride ldx); bias [N] or NULL; relu ≠ 0 applies
/// y < 0 ? 0 : y to each tile before it is stored (NaN and −0 kept, as nk_activation_f32). Fast
/// with AVX2 or AVX-512 (its own tiles), which nk_linear_packed_available reports (elsewhere portable loops).
int nk_linear_packed_available(void);
/// Whether those kernels run their AVX-512 tiles (12 rows × 32 columns) on this CPU.
int nk_linear_packed_avx512(void);
void nk_linear_pack_f32(const float *w, int64_t N, int64_t K, float *pk);
void nk_linear_packed_f32(const float *x, int64_t ldx, int64_t m0, int64_t m1, int64_t K, const float *pk, const float *bias,
                          int64_t N, float *y, int64_t ldy, int32_t relu);
/// The same layer for a few rows of x (linear_dot.c): y[r, j] = bias[j] + Σ_p x[r, p]·W[j, p] for rows r < rows and
/// columns j in [n0, n1), x (row stride ldx) and W [N, K] (row stride ldw) read in place, nothing packed; bias [N]
/// or NULL; add ≠ 0: what y holds is added too (y += x·Wᵀ + bias); relu as above, last. Each tile of 4 rows of W
/// runs over x's rows 4 at a time. AVX-512, AVX2 or portable loops, as the CPU has; split [n0, n1) over threads.
void nk_linear_dot_f32(const float *x, int64_t ldx, int64_t rows, int64_t K, const float *w, int64_t ldw, const float *bias,
                       int64_t n0, int64_t n1, float *y, int64_t ldy, int32_t relu, int32_t add);
/// The same product added to what y holds, y[i, j] += Σ_p x[i, p]·W[j, p] (the recurrent layers
/// add W_hh·h to the gates' input projections in place).
void nk_linear_packed_add_f32(const float *x, int64_t ldx, int64_t m0, int64_t m1, int64_t K, const float *pk, int64_t N, float *y,
                              int64_t ldy);
/// The same kernel as a matrix product with its right operand packed: c[i, j] = rowBias[i] (0 when
/// rowBias is NULL) + Σ_p a[i·lda + p]·B[p, j] for rows i in [m0, m1), B [K, N] in the panel
/// layout pk[(j/16·K + p)·16 + j%16] (nk_pack_panels16_f32, nk_im2col_panels_f32); c at row
/// stride ldc; relu as above. The convolution's forward (a = the weight), input gradient (a = its
/// transpose) and weight gradient.
void nk_gemm_packed_f32(const float *a, int64_t lda, int64_t m0, int64_t m1, int64_t K, const float *pk, const float *rowBias,
                        int64_t N, float *c, int64_t ldc, int32_t relu);
/// The same product stored transposed: c[j·ldc + i] for rows i in [m0, m1) (each tile's sums
/// transposed in registers and stored a column of c at a time). A Linear layer as yᵀ = W·xᵀ (W's
/// rows the rows here, x packed) writes y [rows, outF] this way with no transposing pass. The
/// AVX-512 kernel; plain loops on other CPUs (where Neurone does not take this path).
void nk_gemm_packed_t_f32(const float *a, int64_t lda, int64_t m0, int64_t m1, int64_t K, const float *pk, const float *rowBias,
                          int64_t N, float *c, int64_t ldc, int32_t relu);
/// b [K, N] (row stride ldb) → the panel layout above, 0 past column N.
void nk_pack_panels16_f32(const float *b, int64_t ldb, int64_t K, int64_t N, float *pk);
/// w [N, K] at row stride ldw → the panel layout of nk_linear_pack_f32 (that function with ldw = K).
void nk_pack_rows16_f32(const float *w, int64_t ldw, int64_t N, int64_t K, float *pk);
/// The same kernel with its left operand's rows read in place in runs (linear.c): c[i, j] (+)=
/// Σ_{s < segs} Σ_{p < segLen} x[off[i] + s·segStride + p]·B[s·segLen + p, j] for rows i in
/// [m0, m1) (off: one offset per row, indexed by i), B [segs·segLen, N] in the panel layout above,
/// c at row stride ldc, add ≠ 0: added to what c holds. The convolution's weight gradient
/// (transposed) with no columns built: row (c, i, j) of the columns is, for each output row, one
/// run of the input row it reads.
void nk_gemm_segments_f32(const float *x, const int64_t *off, int64_t m0, int64_t m1, int64_t segs, int64_t segLen, int64_t segStride,
                          const float *pk, int64_t N, float *c, int64_t ldc, int32_t add);

/// The weight gradient of that layer, dW [M, N] (+)= Σ_k g[k, i]·x[k, j] for g [K, M] (row stride
/// ldg) and x [K, N] (row stride ldx), K the batch rows (linear.c). nk_wgrad_pack_g_f32 packs
/// tiles [t0, t1) of g into pa (⌈M/6⌉·6·K values in all); nk_wgrad_f32 then writes columns
/// [16·p0, 16·p1) of dW (row stride ldw), adding to what is there when `accumulate` is nonzero,
/// and packs the same panels of x into pb (⌈N/16⌉·16·K values; calls for disjoint panel ranges may
/// run at once). Fast with AVX2 or AVX-512 (nk_linear_packed_available), portable loops elsewhere.
void nk_wgrad_pack_g_f32(const float *g, int64_t ldg, int64_t M, int64_t K, int64_t t0, int64_t t1, float *pa);
/// The same pack of g · f′(y) for a layer with a fused activation (op: NK_ACTIVATION_*; y, the
/// activation's output, at g's row stride), the gradient taken as each value is packed (no pass
/// of its own); and, when dbias is not NULL, dbias[i] = Σ_k of the packed values for the tiles'
/// features (k in order, as the separate sum over the rows). g itself is not written.
void nk_wgrad_pack_g_act_f32(int32_t op, const float *g, const float *y, int64_t ldg, int64_t M, int64_t K, int64_t t0, int64_t t1,
                             float *pa, float *dbias);
void nk_wgrad_f32(const float *pa, const float *x, int64_t ldx, float *pb, int64_t M, int64_t N, int64_t K, int64_t p0, int64_t p1,
                  float *dw, int64_t ldw, int accumulate);

/// Copies the rowBytes bytes at `row` into each of `rows` consecutive rows of dst (a bias laid
/// under a GEMM that accumulates onto it): inline 32-byte moves, not one memcpy call per row.
void nk_fill_rows(void *dst, const void *row, int64_t rows, int64_t rowBytes);

/// Direct float32 convolution with stride 1 (groups = 1, NCHW) on a pre-padded input
/// xpad [N, C, Hp, Wp]; dims = {N, C, Hp, Wp, O, kh, kw, dh, dw, outH, outW} (see conv_direct.c).
/// Forward computes work items [item0, item1) of nk_conv2d_direct_items(dims) (one sample and a
/// group of up to 6 output channels each) of y [N, O, outH, outW] (bias may be NULL), then applies
/// activation `act` to them in place (−1 none, else an op code of nk_activation_f32). The gradients take the output gradient widened to [N, O, outH, Wp] with
/// zeros past outW: the weight gradient fills work items [item0, item1) of
/// nk_conv2d_direct_bwd_weight_items(dims) (a group of output channels and one input channel) of gw [O, C, kh, kw];
/// the input gradient accumulates planes [plane0, plane1) of the N·C planes of a zeroed gxpad.
int64_t nk_conv2d_direct_items(const int64_t *dims);
void nk_conv2d_direct_f32(const int64_t *dims, const float *xpad, const float *w, const float *bias, float *y,
                          int64_t item0, int64_t item1, int32_t act);
int64_t nk_conv2d_direct_bwd_weight_items(const int64_t *dims);
void nk_conv2d_direct_bwd_weight_f32(const int64_t *dims, const float *xpad, const float *gwide, float *gw, int64_t item0, int64_t item1);
void nk_conv2d_direct_bwd_input_f32(const int64_t *dims, const float *gwide, const float *w, float *gxpad, int64_t plane0, int64_t plane1);

/// im2col over planes [plane0, plane1) of the N·C planes of x [N, C, H, W] (elements of elemSize
/// 4 or 8 bytes): row (c·kh + i)·kw + j of sample n, at cols + n·sampleStride + row·rowStride,
/// holds x[n, c, oy·sh − ph + i·dh, ox·sw − pw + j·dw] at oy·ow + ox (zero outside the input).
/// g = {C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, sampleStride, rowStride}.
void nk_im2col(int64_t elemSize, const void *x, const int64_t *g, void *cols, int64_t plane0, int64_t plane1);
/// The adjoint of nk_im2col: adds each column entry into x at the position it was read from.
void nk_col2im_f32(const float *cols, const int64_t *g, float *x, int64_t plane0, int64_t plane1);
void nk_col2im_f64(const double *cols, const int64_t *g, double *x, int64_t plane0, int64_t plane1);
/// The same sums written over the planes instead of added to them (no clearing first), bit for bit those of
/// clearing them and calling nk_col2im_f32 (stride 1 on AVX-512 CPUs: each run of 16 input columns summed in a
/// register and stored once; otherwise exactly that).
void nk_col2im_set_f32(const float *cols, const int64_t *g, float *x, int64_t plane0, int64_t plane1);
/// im2col of m samples straight into the panel layout of nk_gemm_packed_f32: column q = s·L +
/// position of sample s, row r = (c·kh + i)·kw + j, K = C·kh·kw rows, m·L columns padded with 0
/// to a multiple of 16. x points at the first sample [C, H, W]; g as for nk_im2col (its two
/// strides are ignored); scratch holds kh·kw·m·L floats.
void nk_im2col_panels_f32(const float *x, const int64_t *g, int64_t m, float *scratch, float *pk);
/// The same for the geometries of nk_im2col_panels_range_supported, columns [q0, q1) only (q0 a
/// multiple of 16; q1 a multiple of 8 unless the CPU has AVX-512 and the stride along rows is 1;
/// the first panel at pk, columns past q1 in the last one 0), written panel by panel from x (no
/// scratch).
void nk_im2col_panels_range_f32(const float *x, const int64_t *g, int64_t q0, int64_t q1, float *pk);
/// Whether nk_im2col_panels_range_f32 takes this geometry: rows a multiple of 8 wide and kernels of at most
/// 32×32 always; any row width with stride 1 along rows on AVX-512 CPUs (q1 then any column count).
int nk_im2col_panels_range_supported(const int64_t *g);
/// im2col of m samples straight into the transposed panels that the convolution's weight gradient
/// reads (nk_linear_pack_f32 of the columns [K, m·L]), panels [kp0, kp1) of them:
/// pk[((r/16 − kp0)·m·L + q)·16 + r%16] = column q's row r (rows as in nk_im2col_panels_f32), 0
/// for r ≥ K up to a multiple of 16, read from x in place. scratch holds
/// nk_im2col_kpanels_scratch(g) floats (17 runs of ow values).
void nk_im2col_kpanels_f32(const float *x, const int64_t *g, int64_t m, int64_t kp0, int64_t kp1, float *scratch, float *pk);
int64_t nk_im2col_kpanels_scratch(const int64_t *g);

/// Scaled dot-product attention of one (sample, head) block (attention.c): P = softmax(scale·Q·Kᵀ
/// + mask) [L, S] (contiguous; mask [L, S] additive, −inf allowed, or NULL), O = P·V. Q, K, V and O
/// are L or S rows of D contiguous values at the given row strides (in elements). p may be NULL
/// when the probabilities are not wanted. drop, NULL or [L, S] contiguous: dropout on the
/// probabilities, O = (P ⊙ drop)·V (drop holds 0 for a dropped probability, 1/(1 − p) for a kept
/// one); P itself is stored undropped. With SP = S rounded up to a multiple of 16, the forward
/// pass's work holds (D + L + 4)·SP + L·S + 192 values. The backward pass overwrites gq, gk, gv from
/// the output gradient go, the saved P and the same drop; its work holds (D + 2·L + 8)·SP + 64 values.
void nk_attention_fwd_f32(int64_t L, int64_t S, int64_t D, float scale, const float *q, int64_t qs, const float *k, int64_t ks,
                          const float *v, int64_t vs, const float *mask, const float *drop, float *p, float *o, int64_t os, float *work);
void nk_attention_bwd_f32(int64_t L, int64_t S, int64_t D, float scale, const float *q, int64_t qs, const float *k, int64_t ks,
                          const float *v, int64_t vs, const float *p, const float *drop, const float *go, int64_t gos,
                          float *gq, int64_t gqs, float *gk, int64_t gks, float *gv, int64_t gvs, float *work);
void nk_attention_fwd_f64(int64_t L, int64_t S, int64_t D, double scale, const double *q, int64_t qs, const double *k, int64_t ks,
                          const double *v, int64_t vs, const double *mask, const double *drop, double *p, double *o, int64_t os,
                          double *work);
void nk_attention_bwd_f64(int64_t L, int64_t S, int64_t D, double scale, const double *q, int64_t qs, const double *k, int64_t ks,
                          const double *v, int64_t vs, const double *p, const double *drop, const double *go, int64_t gos,
                          double *gq, int64_t gqs, double *gk, int64_t gks, double *gv, int64_t gvs, double *work);

/// 2×2 stride-2 max pooling of `planes` float32 planes [H, W] → [outH, outW] (2·outH ≤ H,
/// 2·outW ≤ W) with the flat index of each maximum (first maximum wins, NaN wins); idx NULL: the
/// values only.
void nk_maxpool2x2_f32(const float *x, int64_t planes, int64_t H, int64_t W, int64_t outH, int64_t outW, float *out, int64_t *idx);
/// The backward of nk_maxpool2x2_f32 with the indices it wrote: dx [planes, H, W] = g (+ 0) at each window's recorded index,
/// 0 at the window's other positions and outside every window; each plane written once, no clearing pass.
void nk_maxpool2x2_backward_f32(const float *g, const int64_t *idx, int64_t planes, int64_t H, int64_t W, int64_t outH, int64_t outW,
                                float *dx);
/// 2×2 stride-2 average pooling of `planes` float32 planes [H, W] → [outH, outW] (2·outH ≤ H,
/// 2·outW ≤ W), all contiguous: out = ((a + b) + (c + d))·inv over each window.
void nk_avgpool2x2_f32(const float *x, int64_t planes, int64_t H, int64_t W, int64_t outH, int64_t outW, float inv, float *out);
/// The backward of nk_avgpool2x2_f32: dx [planes, H, W] = g·inv spread over each window (2·outH ≤ H, 2·outW ≤ W), 0 outside
/// every window; dx overwritten.
void nk_avgpool2x2_backward_f32(const float *g, int64_t planes, int64_t H, int64_t W, int64_t outH, int64_t outW, float inv, float *dx);

/// The fused optimiser updates on elements [a, b) of a parameter p, its gradient g and its state,
/// in place (optimizer.c): plain SGD, SGD with momentum (buf; first ≠ 0 on the first step), and
/// Adadelta (sq: the squared gradients' average, acc: the squared updates'); the arithmetic is
/// torch.optim's, operation by operation, with no fused multiply-adds.
void nk_sgd_f32(int64_t a, int64_t b, float *p, const float *g, float lr, float wd, int32_t maximize);
void nk_sgd_f64(int64_t a, int64_t b, double *p, const double *g, double lr, double wd, int32_t maximize);
void nk_sgd_momentum_f32(int64_t a, int64_t b, float *p, const float *g, float *buf, float momentum, float dampening, float lr, float wd,
                         int32_t nesterov, int32_t maximize, int32_t first);
void nk_sgd_momentum_f64(int64_t a, int64_t b, double *p, const double *g, double *buf, double momentum, double dampening, double lr,
                         double wd, int32_t nesterov, int32_t maximize, int32_t first);
void nk_adadelta_f32(int64_t a, int64_t b, float *p, const float *g, float *sq, float *acc, float rho, float eps, float lr, float wd);
void nk_adadelta_f64(int64_t a, int64_t b, double *p, const double *g, double *sq, double *acc, double rho, double eps, double lr,
                     double wd);

/// The path of the shared object that holds `symbol` (dladdr), or NULL when unknown (platform.c).
const char *nk_library_path_of(const void *symbol);
/// The level of vector instructions the C kernels use: 2 = AVX-512, 1 = AVX2 + FMA, 0 = baseline
/// (after NEURONE_KERNEL's cap; cpu_level.h).
int32_t nk_kernel_level(void);

/// The multiply-add peak probe (peak.c): `iterations` steps of 12 independent vector FMA chains at
/// `level` (2 AVX-512, 1 AVX2, 0 baseline; capped at the CPU's level), each step 12 × lanes
/// multiply-adds, lanes = nk_fma_peak_lanes(level); returns a sum of the chains (so that the work is kept).
int32_t nk_fma_peak_lanes(int32_t level);
float nk_fma_peak_run(int32_t level, int64_t iterations);

/// A task of a parallel region: index runs from 0 to tasks - 1.
typedef void (*nk_task_fn)(void *ctx, int64_t index);

/// Runs fn(ctx, i) for i in 0..<tasks, task 0 on the calling thread and task i on pool
/// thread i, and returns when all are done. Nested calls and calls made while another thread
/// holds the pool run the tasks serially on the caller.
void nk_parallel_run(int64_t tasks, nk_task_fn fn, void *ctx);

/// Neurone's random stream (xoshiro256**, RandomStream.swift; state: its four words) — random.c.
enum { NK_RANDOM_UNIFORM = 0, NK_RANDOM_DROPOUT = 1 };
/// count float32 values, the same as drawing them one by one from the stream, which is left where
/// that would leave it: UNIFORM a + b·u, DROPOUT u < a ? b : 0, u = (x >> 40)·2^-24 of each draw x.
void nk_random_fill_f32(uint64_t *state, float *dst, int64_t count, int32_t mode, float a, float b);
/// The state `steps` draws on, without drawing (a jump by the transition's characteristic polynomial).
void nk_random_jump(uint64_t *state, uint64_t steps);

#ifdef __cplusplus
}
#endif

#endif
