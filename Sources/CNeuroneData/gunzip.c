// gzip/zlib decompression through the system zlib, found at run time with dlopen (libz.so.1 on
// Linux, libz.1.dylib on macOS): no build-time dependency. The z_stream layout below is zlib's
// (stable since 1.0) for LP64 platforms.
#include "neurone_data.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const unsigned char *next_in; unsigned int avail_in; unsigned long total_in;
    unsigned char *next_out; unsigned int avail_out; unsigned long total_out;
    const char *msg; void *state;
    void *zalloc; void *zfree; void *opaque;
    int data_type; unsigned long adler; unsigned long reserved;
} nk_z_stream;

typedef int (*inflate_init2_fn)(nk_z_stream *, int, const char *, int);
typedef int (*inflate_fn)(nk_z_stream *, int);
typedef int (*inflate_end_fn)(nk_z_stream *);
typedef int (*inflate_reset_fn)(nk_z_stream *);

static void *zlib_handle(void) {
    static void *h = NULL;
    static int tried = 0;
    if (!tried) {
        tried = 1;
        const char *names[] = {"libz.so.1", "libz.so", "libz.1.dylib", "/usr/lib/libz.1.dylib", NULL};
        for (int i = 0; names[i] && !h; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    }
    return h;
}

// max_out: more decompressed bytes than this is an error (a decompression bomb), checked as it grows.
int nk_gunzip(const uint8_t *src, int64_t n, int64_t max_out, uint8_t **out, int64_t *out_len, char *err, int64_t err_len) {
    *out = NULL;
    *out_len = 0;
    void *h = zlib_handle();
    if (!h) { snprintf(err, (size_t)err_len, "zlib (libz.so.1) was not found; install zlib1g"); return -1; }
    inflate_init2_fn init = (inflate_init2_fn)dlsym(h, "inflateInit2_");
    inflate_fn inflate = (inflate_fn)dlsym(h, "inflate");
    inflate_end_fn end = (inflate_end_fn)dlsym(h, "inflateEnd");
    inflate_reset_fn reset = (inflate_reset_fn)dlsym(h, "inflateReset");
    if (!init || !inflate || !end || !reset) { snprintf(err, (size_t)err_len, "zlib lacks inflateInit2_/inflate"); return -1; }
    nk_z_stream s;
    memset(&s, 0, sizeof s);
    // 15 + 32: a zlib or gzip header, detected automatically.
    if (init(&s, 15 + 32, "1.2.11", (int)sizeof s) != 0) { snprintf(err, (size_t)err_len, "inflateInit2 failed"); return -1; }
    size_t cap = (size_t)(n > 0 ? n : 1) * 4 + 1024, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) { end(&s); snprintf(err, (size_t)err_len, "out of memory"); return -1; }
    s.next_in = src;
    s.avail_in = (unsigned int)n;
    for (;;) {
        if (cap - len < 65536) {
            cap *= 2;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) { free(buf); end(&s); snprintf(err, (size_t)err_len, "out of memory"); return -1; }
            buf = nb;
        }
        if ((int64_t)len > max_out) {
            snprintf(err, (size_t)err_len, "the data decompresses to more than %lld bytes (the limit)", (long long)max_out);
            free(buf); end(&s); return -1;
        }
        s.next_out = buf + len;
        s.avail_out = (unsigned int)(cap - len > 0x40000000 ? 0x40000000 : cap - len);
        unsigned int before = s.avail_out;
        int rc = inflate(&s, 0);
        len += before - s.avail_out;
        if ((int64_t)len > max_out) continue;   // reported at the top of the loop
        if (rc == 1) {  // Z_STREAM_END: a concatenated member may follow
            if (s.avail_in > 0) { reset(&s); continue; }
            break;
        }
        if (rc != 0) {
            snprintf(err, (size_t)err_len, "corrupted compressed data (zlib error %d%s%s)", rc, s.msg ? ": " : "", s.msg ? s.msg : "");
            free(buf); end(&s); return -1;
        }
        if (s.avail_in == 0 && s.avail_out != 0) {
            snprintf(err, (size_t)err_len, "the compressed data ends early (truncated file)");
            free(buf); end(&s); return -1;
        }
    }
    end(&s);
    *out = buf;
    *out_len = (int64_t)len;
    return 0;
}

void nk_free(void *p) { free(p); }

typedef unsigned long (*compress_bound_fn)(unsigned long);
typedef int (*compress2_fn)(uint8_t *, unsigned long *, const uint8_t *, unsigned long, int);

int nk_zlib_compress(const uint8_t *src, int64_t n, int level, uint8_t **out, int64_t *out_len, char *err, int64_t err_len) {
    *out = NULL;
    *out_len = 0;
    void *h = zlib_handle();
    if (!h) { snprintf(err, (size_t)err_len, "zlib (libz.so.1) was not found; install zlib1g"); return -1; }
    compress_bound_fn bound = (compress_bound_fn)dlsym(h, "compressBound");
    compress2_fn compress2 = (compress2_fn)dlsym(h, "compress2");
    if (!bound || !compress2) { snprintf(err, (size_t)err_len, "zlib lacks compress2"); return -1; }
    unsigned long cap = bound((unsigned long)n);
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf) { snprintf(err, (size_t)err_len, "out of memory"); return -1; }
    int rc = compress2(buf, &cap, src, (unsigned long)n, level);
    if (rc != 0) { free(buf); snprintf(err, (size_t)err_len, "compress2 failed (zlib error %d)", rc); return -1; }
    *out = buf;
    *out_len = (int64_t)cap;
    return 0;
}

// libbz2's one-call API: the output size must be guessed, so the buffer doubles until it fits.
typedef int (*bz_buff_decompress_fn)(char *, unsigned int *, char *, unsigned int, int, int);

int nk_bunzip2(const uint8_t *src, int64_t n, int64_t max_out, uint8_t **out, int64_t *out_len, char *err, int64_t err_len) {
    *out = NULL;
    *out_len = 0;
    static void *h = NULL;
    static int tried = 0;
    if (!tried) {
        tried = 1;
        const char *names[] = {"libbz2.so.1.0", "libbz2.so.1", "libbz2.so", "libbz2.1.0.dylib", "/usr/lib/libbz2.1.0.dylib", NULL};
        for (int i = 0; names[i] && !h; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    }
    if (!h) { snprintf(err, (size_t)err_len, "libbz2 was not found; install libbz2-1.0 (or decompress the file with bunzip2)"); return -1; }
    bz_buff_decompress_fn dec = (bz_buff_decompress_fn)dlsym(h, "BZ2_bzBuffToBuffDecompress");
    if (!dec) { snprintf(err, (size_t)err_len, "libbz2 lacks BZ2_bzBuffToBuffDecompress"); return -1; }
    size_t cap = (size_t)(n > 0 ? n : 1) * 6 + 4096;
    for (;;) {
        if (cap > 0xFFFFFFFFu) { snprintf(err, (size_t)err_len, "bzip2 data decompresses to more than 4 GiB"); return -1; }
        uint8_t *buf = malloc(cap);
        if (!buf) { snprintf(err, (size_t)err_len, "out of memory"); return -1; }
        unsigned int len = (unsigned int)cap;
        int rc = dec((char *)buf, &len, (char *)src, (unsigned int)n, 0, 0);
        if (rc == 0 && (int64_t)len <= max_out) { *out = buf; *out_len = (int64_t)len; return 0; }
        free(buf);
        if (rc == 0 || (rc == -8 && (int64_t)cap > max_out)) {
            snprintf(err, (size_t)err_len, "the data decompresses to more than %lld bytes (the limit)", (long long)max_out);
            return -1;
        }
        if (rc == -8) { cap *= 2; continue; }  // BZ_OUTBUFF_FULL
        const char *why = rc == -7 ? "the compressed data ends early (truncated file)"
                        : rc == -4 || rc == -5 ? "corrupted bzip2 data" : "bzip2 error";
        snprintf(err, (size_t)err_len, "%s (libbz2 error %d)", why, rc);
        return -1;
    }
}
