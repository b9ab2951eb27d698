// A small persistent thread pool with static scheduling: task i runs on thread i (task 0 on
// the caller), so every chunk of a parallel loop really gets its own core even when the work
// lasts only tens of microseconds. Workers spin briefly after each task (to catch the next op
// of a chain without a futex wake-up) and then sleep on a condition variable.
// Calls made from inside a task, or while another thread is using the pool, run serially.
#if defined(__linux__)
#define _GNU_SOURCE
#endif
#include "neurone_kernels.h"
#include <unistd.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#define NK_MAX_THREADS 256
#define NK_SPIN_ITERATIONS 20000

#if defined(__x86_64__) || defined(__i386__)
#define NK_PAUSE() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define NK_PAUSE() __asm__ __volatile__("yield")
#else
#define NK_PAUSE() do { } while (0)
#endif

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;   // guards generation changes / sleeping
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t pool_owner = PTHREAD_MUTEX_INITIALIZER;  // one parallel region at a time
static atomic_ullong generation = 0;
static atomic_llong remaining = 0;
static nk_task_fn task_fn = NULL;
static void *task_ctx = NULL;
static int64_t task_count = 0;
static int64_t workers_started = 0;
static _Thread_local int in_task = 0;

typedef struct {
    int64_t index;
    unsigned long long generation;  // the generation current when the worker was created
} worker_start;

static void *worker_main(void *arg) {
    worker_start start = *(worker_start *)arg;
    free(arg);
    int64_t index = start.index;
#if defined(__linux__)
    // Pin worker i to core i (the caller, task 0, stays free to move): two threads of one
    // region then never share a core, which the scheduler otherwise allows for milliseconds.
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores > 1 && index < cores && getenv("NEURONE_NO_PIN") == NULL) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET((int)index, &set);
        pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    }
#endif
    // Start from the creator's generation: the region that created this worker bumps it right
    // after, and the worker must see that bump as work to do, however late it starts.
    unsigned long long seen = start.generation;
    for (;;) {
        unsigned long long g;
        int spins = 0;
        while ((g = atomic_load_explicit(&generation, memory_order_acquire)) == seen && spins < NK_SPIN_ITERATIONS) {
            if (spins % 256 == 255) sched_yield(); else NK_PAUSE();
            spins++;
        }
        if (g == seen) {
            pthread_mutex_lock(&pool_lock);
            while ((g = atomic_load_explicit(&generation, memory_order_acquire)) == seen)
                pthread_cond_wait(&pool_wake, &pool_lock);
            pthread_mutex_unlock(&pool_lock);
        }
        seen = g;
        if (index < task_count) {
            in_task = 1;
            task_fn(task_ctx, index);
            in_task = 0;
            atomic_fetch_sub_explicit(&remaining, 1, memory_order_acq_rel);
        }
    }
    return NULL;
}

// A forked child has only the forking thread: forget the parent's workers and locks.
static void pool_after_fork_in_child(void) {
    workers_started = 0;
    pthread_mutex_init(&pool_lock, NULL);
    pthread_mutex_init(&pool_owner, NULL);
    pthread_cond_init(&pool_wake, NULL);
    atomic_store(&remaining, 0);
    in_task = 0;
}

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static void pool_init(void) { pthread_atfork(NULL, NULL, pool_after_fork_in_child); }

void nk_parallel_run(int64_t tasks, nk_task_fn fn, void *ctx) {
    if (tasks <= 0) return;
    pthread_once(&pool_once, pool_init);
    if (tasks == 1 || in_task || tasks > NK_MAX_THREADS || pthread_mutex_trylock(&pool_owner) != 0) {
        for (int64_t i = 0; i < tasks; i++) fn(ctx, i);
        return;
    }
    while (workers_started < tasks - 1) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        worker_start *start = malloc(sizeof *start);
        if (!start) { pthread_attr_destroy(&attr); break; }
        start->index = workers_started + 1;
        start->generation = atomic_load_explicit(&generation, memory_order_acquire);
        if (pthread_create(&t, &attr, worker_main, start) != 0) {
            free(start);
            pthread_attr_destroy(&attr);
            break;
        }
        pthread_attr_destroy(&attr);
        workers_started++;
    }
    int64_t parallel = workers_started + 1 < tasks ? workers_started + 1 : tasks;
    task_fn = fn;
    task_ctx = ctx;
    task_count = parallel;
    atomic_store_explicit(&remaining, parallel - 1, memory_order_release);
    pthread_mutex_lock(&pool_lock);
    atomic_fetch_add_explicit(&generation, 1, memory_order_acq_rel);
    pthread_cond_broadcast(&pool_wake);
    pthread_mutex_unlock(&pool_lock);
    in_task = 1;
    fn(ctx, 0);
    for (int64_t i = parallel; i < tasks; i++) fn(ctx, i);  // if fewer threads could be started
    in_task = 0;
    // Wait for the workers: spin briefly, then yield, so that a worker the scheduler put on
    // this same core gets to run instead of waiting for a preemption tick.
    for (int spins = 0; atomic_load_explicit(&remaining, memory_order_acquire) > 0; spins++) {
        if (spins < 1000) NK_PAUSE(); else sched_yield();
    }
    task_fn = NULL;
    task_ctx = NULL;
    task_count = 0;
    pthread_mutex_unlock(&pool_owner);
}
