// Data files in C: gzip/zlib and bzip2 through the system libraries (found at run time with
// dlopen, no build-time dependency) and the embedded MNIST sample's bytes. Kept apart from the
// compute kernels (CNeuroneKernels), which know nothing of files.
#ifndef NEURONE_DATA_H
#define NEURONE_DATA_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Decompresses gzip or zlib data with the system zlib (found with dlopen). On success returns 0
/// and a malloc'ed buffer (free it with nk_free); on failure returns −1 with a message in err.
int nk_gunzip(const uint8_t *src, int64_t n, int64_t max_out, uint8_t **out, int64_t *out_len, char *err, int64_t err_len);
/// zlib-compresses src (a zlib stream, as PNG's IDAT wants) at `level` (0–9) into a malloc'ed buffer;
/// −1 with a message in err when zlib is missing.
int nk_zlib_compress(const uint8_t *src, int64_t n, int level, uint8_t **out, int64_t *out_len, char *err, int64_t err_len);
/// Decompresses bzip2 data through the system libbz2 (found at run time), like nk_gunzip.
int nk_bunzip2(const uint8_t *src, int64_t n, int64_t max_out, uint8_t **out, int64_t *out_len, char *err, int64_t err_len);
void nk_free(void *p);

/// The embedded 5,000-image MNIST sample (scripts/embed_mnist5k.py): one gzip stream of 5,000
/// labels then 5,000 × 784 pixels.
const uint8_t *nk_mnist5k_gz(int64_t *length);

#ifdef __cplusplus
}
#endif
#endif
