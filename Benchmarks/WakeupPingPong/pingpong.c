// Two threads pass a byte back and forth over two pipes, each pinned to a CPU: the mean
// round trip is two wake-ups of a sleeping thread. Across CPUs it shows what waking an
// idle CPU costs (on a VM that halts idle vCPUs: an interrupt to a halted vCPU).
//
//   pingpong CPU_A CPU_B [ROUND_TRIPS]   prints the mean round trip in microseconds
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int ping[2], pong[2];
static long trips;

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
        fprintf(stderr, "pingpong: cannot run on CPU %d\n", cpu);
        exit(1);
    }
}

static void *answer(void *cpu) {
    pin(*(int *)cpu);
    char byte;
    for (long i = 0; i < trips; i++) {
        if (read(ping[0], &byte, 1) != 1 || write(pong[1], &byte, 1) != 1) exit(1);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: pingpong CPU_A CPU_B [ROUND_TRIPS]\n");
        return 2;
    }
    int a = atoi(argv[1]), b = atoi(argv[2]);
    trips = argc > 3 ? atol(argv[3]) : 50000;
    if (pipe(ping) != 0 || pipe(pong) != 0) return 1;
    pthread_t peer;
    pthread_create(&peer, NULL, answer, &b);
    pin(a);
    char byte = 1;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < trips; i++) {
        if (write(ping[1], &byte, 1) != 1 || read(pong[0], &byte, 1) != 1) return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    pthread_join(peer, NULL);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("%.2f\n", seconds / (double)trips * 1e6);
    return 0;
}
