/* An independent reference for the kernel-level benches, written without the crate's code:
 * the same operations in plain C, timed with CLOCK_MONOTONIC over a fixed loop count.
 * Prints one line per cost, in nanoseconds per operation, with the operation named.
 *
 * Build and run through scripts/reference.sh. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) { perror("sched_setaffinity"); exit(1); }
}

static void unpin(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < 2; i++) CPU_SET(i, &set);
    sched_setaffinity(0, sizeof set, &set);
}

/* ---- pipe ping-pong: one hop = one one-way token hand-off (a round trip is two) ---- */
struct echo { int in, out, cpu; };

static void echo_loop(struct echo *e) {
    char c;
    if (e->cpu >= 0) pin(e->cpu);
    while (read(e->in, &c, 1) == 1)
        if (write(e->out, &c, 1) != 1) break;
}

static void *echo_thread(void *arg) { echo_loop(arg); return NULL; }

static double pipe_hop_ns(int use_process, int cpu_a, int cpu_b, long round_trips) {
    int ab[2], ba[2];
    if (pipe(ab) || pipe(ba)) { perror("pipe"); exit(1); }
    struct echo e = { ab[0], ba[1], cpu_b };
    pthread_t t;
    pid_t child = -1;
    if (use_process) {
        child = fork();
        if (child == 0) { close(ab[1]); close(ba[0]); echo_loop(&e); _exit(0); }
    } else {
        pthread_create(&t, NULL, echo_thread, &e);
    }
    if (cpu_a >= 0) pin(cpu_a);
    char c = 1;
    for (int i = 0; i < 1000; i++) { write(ab[1], &c, 1); read(ba[0], &c, 1); } /* warm-up */
    double start = now_ns();
    for (long i = 0; i < round_trips; i++) { write(ab[1], &c, 1); read(ba[0], &c, 1); }
    double elapsed = now_ns() - start;
    close(ab[1]);
    if (use_process) { close(ab[0]); close(ba[1]); waitpid(child, NULL, 0); }
    else pthread_join(t, NULL);
    close(ba[0]);
    if (!use_process) { close(ab[0]); close(ba[1]); }
    unpin();
    return elapsed / (2.0 * round_trips);
}

/* ---- thread spawn + join with a given stack size ---- */
static void *empty(void *arg) { return arg; }

static double spawn_join_ns(size_t stack, long n) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stack);
    double start = now_ns();
    for (long i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, empty, NULL)) { perror("pthread_create"); exit(1); }
        pthread_join(t, NULL);
    }
    double elapsed = now_ns() - start;
    pthread_attr_destroy(&attr);
    return elapsed / n;
}

/* ---- fork + _exit + waitpid with `mib` MiB of touched heap in the parent ---- */
static double fork_ns(size_t mib, long n) {
    size_t len = mib << 20;
    char *heap = malloc(len);
    for (size_t off = 0; off < len; off += 4096) heap[off] = 1;
    double start = now_ns();
    for (long i = 0; i < n; i++) {
        pid_t child = fork();
        if (child == 0) _exit(0);
        int status;
        waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { fprintf(stderr, "child failed\n"); exit(1); }
    }
    double elapsed = now_ns() - start;
    free(heap);
    return elapsed / n;
}

static double getppid_ns(long n) {
    double start = now_ns();
    for (long i = 0; i < n; i++) syscall(SYS_getppid);
    return (now_ns() - start) / n;
}

/* Fork rows in a process of their own (`kernel_costs fork`): after the thread rows, glibc's
 * cached thread stacks and arenas would be copied with the heap, and the parent would no
 * longer be the 1 MiB parent the row names. */
static void fork_rows(void) {
    printf("%-44s %12.1f ns\n", "fork/fork_exit_wait/1MiB", fork_ns(1, 2000));
    printf("%-44s %12.1f ns\n", "fork/fork_exit_wait/64MiB", fork_ns(64, 500));
    printf("%-44s %12.1f ns\n", "fork/fork_exit_wait/1GiB", fork_ns(1024, 40));
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "fork") == 0) {
        fork_rows();
        return 0;
    }
    int two = sysconf(_SC_NPROCESSORS_ONLN) >= 2;
    printf("%-44s %12.1f ns\n", "syscall/getppid", getppid_ns(2000000));
    printf("%-44s %12.1f ns\n", "context_switch/thread_pipe/same_core", pipe_hop_ns(0, 0, 0, 200000));
    if (two) printf("%-44s %12.1f ns\n", "context_switch/thread_pipe/cross_core", pipe_hop_ns(0, 0, 1, 200000));
    printf("%-44s %12.1f ns\n", "context_switch/thread_pipe/unpinned", pipe_hop_ns(0, -1, -1, 200000));
    printf("%-44s %12.1f ns\n", "context_switch/process_pipe/same_core", pipe_hop_ns(1, 0, 0, 200000));
    if (two) printf("%-44s %12.1f ns\n", "context_switch/process_pipe/cross_core", pipe_hop_ns(1, 0, 1, 200000));
    printf("%-44s %12.1f ns\n", "thread_spawn/spawn_join/64KiB", spawn_join_ns(64 << 10, 20000));
    printf("%-44s %12.1f ns\n", "thread_spawn/spawn_join/2MiB", spawn_join_ns(2 << 20, 20000));
    printf("%-44s %12.1f ns\n", "thread_spawn/spawn_join/8MiB", spawn_join_ns(8 << 20, 20000));
    return 0;
}
