// See include/neurone_mpi.h. Open MPI's ABI as in its mpi.h (4.x, Debian 12's 4.1.4): handles are
// pointers to the exported globals; MPI_IN_PLACE is (void *)1; MPI_THREAD_SERIALIZED is 2.
// scripts/check_mpi_abi compiles against mpi.h and checks these facts.
#define _GNU_SOURCE
#include "neurone_mpi.h"
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

typedef void *handle_t;
#define NM_IN_PLACE ((void *)1)

/* Open MPI's MPI_Status (ompi_status_public_t): MPI_SOURCE, MPI_TAG, MPI_ERROR, _cancelled, _ucount. */
typedef struct { int source, tag, error, cancelled; size_t ucount; } nm_status;

static void *lib;
static char lib_path[512];
static int (*p_init_thread)(int *, char ***, int, int *);
static int (*p_initialized)(int *);
static int (*p_finalized)(int *);
static int (*p_comm_rank)(handle_t, int *);
static int (*p_comm_size)(handle_t, int *);
static int (*p_allreduce)(const void *, void *, int, handle_t, handle_t, handle_t);
static int (*p_bcast)(void *, int, handle_t, int, handle_t);
static int (*p_barrier)(handle_t);
static int (*p_abort)(handle_t, int);
static int (*p_finalize)(void);
static double (*p_wtime)(void);
static int (*p_error_string)(int, char *, int *);
static int (*p_isend)(const void *, int, handle_t, int, int, handle_t, void **);
static int (*p_irecv)(void *, int, handle_t, int, int, handle_t, void **);
static int (*p_test)(void **, int *, void *);
static int (*p_cancel)(void **);
static int (*p_wait)(void **, void *);
static handle_t comm_world, t_float, t_double, t_int64, t_byte, op_sum, op_max, op_min;

static int fail(char *err, size_t len, const char *what, const char *name) {
    const char *why = dlerror();
    if (err && len) snprintf(err, len, "%s %s in %s: %s", what, name, lib_path, why ? why : "not found");
    if (lib) dlclose(lib);
    lib = NULL;
    return -1;
}

int nm_mpi_load(const char *path, char *err, size_t err_len) {
    if (lib) return 0;
    const char *names[] = {path, "libmpi.so.40", "libmpi.so", NULL};
    const char *first = path ? path : "libmpi.so.40";
    for (int i = path ? 0 : 1; names[i] && !lib; i++) {
        // RTLD_GLOBAL: Open MPI's own components, which it dlopens, resolve libmpi's symbols.
        lib = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL);
        if (lib) snprintf(lib_path, sizeof lib_path, "%s", names[i]);
        if (path) break;
    }
    if (!lib) {
        if (err && err_len) snprintf(err, err_len, "cannot load %s: %s", first, dlerror());
        return -1;
    }
#define FN(var, name) do { *(void **)&var = dlsym(lib, name); if (!var) return fail(err, err_len, "no function", name); } while (0)
#define OBJ(var, name) do { var = dlsym(lib, name); if (!var) return fail(err, err_len, "no Open MPI handle", name); } while (0)
    FN(p_init_thread, "MPI_Init_thread");
    FN(p_initialized, "MPI_Initialized");
    FN(p_finalized, "MPI_Finalized");
    FN(p_comm_rank, "MPI_Comm_rank");
    FN(p_comm_size, "MPI_Comm_size");
    FN(p_allreduce, "MPI_Allreduce");
    FN(p_bcast, "MPI_Bcast");
    FN(p_barrier, "MPI_Barrier");
    FN(p_abort, "MPI_Abort");
    FN(p_finalize, "MPI_Finalize");
    FN(p_wtime, "MPI_Wtime");
    FN(p_error_string, "MPI_Error_string");
    FN(p_isend, "MPI_Isend");
    FN(p_irecv, "MPI_Irecv");
    FN(p_test, "MPI_Test");
    FN(p_cancel, "MPI_Cancel");
    FN(p_wait, "MPI_Wait");
    OBJ(comm_world, "ompi_mpi_comm_world");
    OBJ(t_float, "ompi_mpi_float");
    OBJ(t_double, "ompi_mpi_double");
    OBJ(t_int64, "ompi_mpi_int64_t");
    OBJ(t_byte, "ompi_mpi_byte");
    OBJ(op_sum, "ompi_mpi_op_sum");
    OBJ(op_max, "ompi_mpi_op_max");
    OBJ(op_min, "ompi_mpi_op_min");
#undef FN
#undef OBJ
    return 0;
}

const char *nm_mpi_library(void) { return lib ? lib_path : ""; }

int nm_mpi_init(int required, int *provided) {
    int argc = 0;
    char **argv = NULL;
    return p_init_thread(&argc, &argv, required, provided);
}

int nm_mpi_initialized(void) {
    if (!lib) return 0;
    int init = 0, fin = 0;
    p_initialized(&init);
    p_finalized(&fin);
    return init && !fin;
}

int nm_mpi_rank(int *rank) { return p_comm_rank(comm_world, rank); }
int nm_mpi_size(int *size) { return p_comm_size(comm_world, size); }

static handle_t dtype_handle(int dtype, size_t *size) {
    switch (dtype) {
    case NM_MPI_FLOAT32: *size = 4; return t_float;
    case NM_MPI_FLOAT64: *size = 8; return t_double;
    default: *size = 8; return t_int64;
    }
}

int nm_mpi_allreduce(void *buffer, int64_t count, int dtype, int op) {
    size_t size;
    handle_t t = dtype_handle(dtype, &size);
    handle_t o = op == NM_MPI_MAX ? op_max : op == NM_MPI_MIN ? op_min : op_sum;
    char *p = buffer;
    while (count > 0) {
        int n = count > INT_MAX ? INT_MAX : (int)count;
        int rc = p_allreduce(NM_IN_PLACE, p, n, t, o, comm_world);
        if (rc != 0) return rc;
        p += (size_t)n * size;
        count -= n;
    }
    return 0;
}

int nm_mpi_bcast(void *buffer, int64_t bytes, int root) {
    char *p = buffer;
    while (bytes > 0) {
        int n = bytes > INT_MAX ? INT_MAX : (int)bytes;
        int rc = p_bcast(p, n, t_byte, root, comm_world);
        if (rc != 0) return rc;
        p += n;
        bytes -= n;
    }
    return 0;
}

int nm_mpi_barrier(void) { return p_barrier(comm_world); }
int nm_mpi_abort(int code) { return p_abort(comm_world, code); }
int nm_mpi_finalize(void) { return p_finalize(); }
double nm_mpi_wtime(void) { return p_wtime(); }

int nm_mpi_isend(const void *buffer, int bytes, int dest, int tag, void **request) {
    return p_isend(buffer, bytes, t_byte, dest, tag, comm_world, request);
}

int nm_mpi_irecv(void *buffer, int bytes, int source, int tag, void **request) {
    return p_irecv(buffer, bytes, t_byte, source, tag, comm_world, request);
}

int nm_mpi_test(void **request, int *done, int *source) {
    nm_status status = {0};
    int rc = p_test(request, done, &status);
    if (source) *source = status.source;
    return rc;
}

int nm_mpi_cancel_wait(void **request) {
    int rc = p_cancel(request);
    if (rc != 0) return rc;
    return p_wait(request, NULL);
}

void nm_mpi_error_string(int code, char *out, size_t out_len) {
    char buf[1024];
    int len = 0;
    if (!lib || p_error_string(code, buf, &len) != 0) snprintf(out, out_len, "MPI error %d", code);
    else snprintf(out, out_len, "%.*s", len, buf);
}
