// Open MPI, found at run time: a small shim over the few MPI calls data-parallel training makes.
// Nothing here needs mpi.h or libmpi at build time; nm_mpi_load dlopens the library (Debian's
// libopenmpi3: libmpi.so.40) and looks up the functions and Open MPI's predefined handles, which
// are the addresses of exported globals (ompi_mpi_comm_world, ompi_mpi_float, …). MPICH, whose
// handles are integers, is not supported.
#ifndef NEURONE_MPI_H
#define NEURONE_MPI_H

#include <stddef.h>
#include <stdint.h>

/// Element types of the reductions.
enum nm_mpi_dtype { NM_MPI_FLOAT32 = 0, NM_MPI_FLOAT64 = 1, NM_MPI_INT64 = 2 };
/// Reduction operators.
enum nm_mpi_op { NM_MPI_SUM = 0, NM_MPI_MAX = 1, NM_MPI_MIN = 2 };

/// Loads the MPI library: `path` when not NULL, else libmpi.so.40 then libmpi.so. Returns 0, or -1
/// with a message in `err` naming the library or the symbol that was missing.
int nm_mpi_load(const char *path, char *err, size_t err_len);
/// The path of the library loaded (after nm_mpi_load succeeded), else "".
const char *nm_mpi_library(void);
/// MPI_Init_thread asking for `required` (0 single, 1 funneled, 2 serialized, 3 multiple).
/// Returns MPI's error code; *provided is the level granted.
int nm_mpi_init(int required, int *provided);
/// Whether MPI_Init has been called (and MPI_Finalize not yet).
int nm_mpi_initialized(void);
int nm_mpi_rank(int *rank);
int nm_mpi_size(int *size);
/// In-place MPI_Allreduce over MPI_COMM_WORLD of `count` elements (split into calls of at most
/// INT_MAX elements).
int nm_mpi_allreduce(void *buffer, int64_t count, int dtype, int op);
/// MPI_Bcast of `bytes` bytes from `root` (split into calls of at most INT_MAX bytes).
int nm_mpi_bcast(void *buffer, int64_t bytes, int root);
int nm_mpi_barrier(void);
/// MPI_Abort(MPI_COMM_WORLD, code): ends every process of the job.
int nm_mpi_abort(int code);
int nm_mpi_finalize(void);
/// Point-to-point messages on MPI_COMM_WORLD, for the heartbeats of the watchdog (requests are
/// Open MPI's request pointers; source -1 is MPI_ANY_SOURCE).
int nm_mpi_isend(const void *buffer, int bytes, int dest, int tag, void **request);
int nm_mpi_irecv(void *buffer, int bytes, int source, int tag, void **request);
/// MPI_Test: *done is 1 when the request has completed (then *source is the sender of a receive).
int nm_mpi_test(void **request, int *done, int *source);
/// Cancels a pending receive and waits for it to finish.
int nm_mpi_cancel_wait(void **request);
/// MPI_Wtime.
double nm_mpi_wtime(void);
/// MPI's text for an error code (MPI_Error_string) into `out`.
void nm_mpi_error_string(int code, char *out, size_t out_len);

#endif
