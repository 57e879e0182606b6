// Group commit in C, without TokenKit: what this machine's disk and scheduler allow for durable
// writes from several writers, to set `tokenkit-bench durable-writes` beside.
//
//   cc -O2 -pthread -o /tmp/group-commit Benchmarks/Probes/group-commit.c
//   /tmp/group-commit MODE WRITERS [FILE]
//
// MODE is one of:
//   serial     one committer thread: takes every queued write, appends them with one pwrite and
//              one fdatasync, wakes their writers (TokenKit's writer queue)
//   pipelined  the same, with up to DEPTH groups syncing at once on their own threads, completed
//              in order (set DEPTH, 2 by default, in the environment)
//   leader     no committer thread: the first writer to find none committing commits everything
//              queued, then hands the role to a writer still waiting (leader/follower)
//   parallel   no grouping: each writer appends its own record and calls fdatasync itself
//
// Each writer loops for 3 s: a little work (getrandom and arithmetic, in place of making a
// token), then one 256-byte durable write, waiting for it. The file (default /work/group-commit.dat,
// the disk TokenKit's benchmarks use) is preallocated with zeros and synced first, as
// FileTokenStore's log is. Prints durable writes per second and writes per sync.

#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_WRITERS 64
#define RECORD 256

static int fd, writers, depth;
static const char *path;
static volatile int stop;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t committer_wakeup = PTHREAD_COND_INITIALIZER;
static pthread_cond_t sync_wakeup = PTHREAD_COND_INITIALIZER;
static pthread_cond_t writer_wakeup[MAX_WRITERS];
static int queued[MAX_WRITERS], done[MAX_WRITERS], promoted[MAX_WRITERS];
static long counts[MAX_WRITERS];
static long offset, syncs, synced_writes;
static int leader_active, in_flight;
static long next_sequence, next_to_complete;
static char record[RECORD * MAX_WRITERS];

typedef struct {
    long sequence;
    int members[MAX_WRITERS];
    int count;
    int ready;
} group;
static group slots[16];

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// What FileTokenStore does under the lock before it writes: identity checks and a catch-up read.
// (statx without the times, as TokenKit reads them: stat(2) would make the next sync commit the
// file system's journal on Linux 6.13 and later.)
static void plan_group(void) {
    struct statx info;
    char header[64];
    unsigned mask = STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE;
    statx(AT_FDCWD, path, 0, mask, &info);
    statx(AT_FDCWD, path, 0, mask, &info);
    statx(AT_FDCWD, path, 0, mask, &info);
    pread(fd, header, sizeof header, offset);
}

static int take_queued(int *members) {
    int count = 0;
    for (int i = 0; i < writers; i++)
        if (queued[i]) {
            members[count++] = i;
            queued[i] = 0;
        }
    return count;
}

static void answer(const int *members, int count, int self) {
    for (int i = 0; i < count; i++) {
        done[members[i]] = 1;
        if (members[i] != self) pthread_cond_signal(&writer_wakeup[members[i]]);
    }
}

static void make_token(void) {
    char bytes[32];
    volatile double x = 0;
    getrandom(bytes, sizeof bytes, 0);
    for (int i = 0; i < 2000; i++) x += i * 0.5;
}

static void *committer(void *unused) {
    (void)unused;
    while (1) {
        int members[MAX_WRITERS], count = 0;
        pthread_mutex_lock(&mutex);
        while (!stop && (count = (depth == 0 || in_flight < depth) ? take_queued(members) : 0) == 0)
            pthread_cond_wait(&committer_wakeup, &mutex);
        pthread_mutex_unlock(&mutex);
        if (stop) return NULL;
        plan_group();
        pwrite(fd, record, (size_t)RECORD * count, offset);
        offset += (long)RECORD * count;
        syncs++;
        synced_writes += count;
        pthread_mutex_lock(&mutex);
        if (depth == 0) {
            pthread_mutex_unlock(&mutex);
            fdatasync(fd);
            pthread_mutex_lock(&mutex);
            answer(members, count, -1);
        } else {
            group *slot = &slots[next_sequence % depth];
            slot->sequence = next_sequence++;
            slot->count = count;
            memcpy(slot->members, members, sizeof(int) * count);
            slot->ready = 1;
            in_flight++;
            pthread_cond_broadcast(&sync_wakeup);
        }
        pthread_mutex_unlock(&mutex);
    }
}

static void *syncer(void *argument) {
    long index = (long)argument;
    while (1) {
        pthread_mutex_lock(&mutex);
        while (!stop && !slots[index].ready) pthread_cond_wait(&sync_wakeup, &mutex);
        if (stop) {
            pthread_mutex_unlock(&mutex);
            return NULL;
        }
        group mine = slots[index];
        pthread_mutex_unlock(&mutex);
        fdatasync(fd);
        pthread_mutex_lock(&mutex);
        while (!stop && next_to_complete != mine.sequence) pthread_cond_wait(&sync_wakeup, &mutex);
        answer(mine.members, mine.count, -1);
        next_to_complete++;
        slots[index].ready = 0;
        in_flight--;
        pthread_cond_broadcast(&sync_wakeup);
        pthread_cond_signal(&committer_wakeup);
        pthread_mutex_unlock(&mutex);
    }
}

// Makes a token, then queues writer `id`'s write; returns holding the mutex.
static void make_and_queue(long id) {
    make_token();
    pthread_mutex_lock(&mutex);
    queued[id] = 1;
    done[id] = 0;
}

static void *queued_writer(void *argument) {
    long id = (long)argument;
    while (!stop) {
        make_and_queue(id);
        pthread_cond_signal(&committer_wakeup);
        while (!done[id] && !stop) pthread_cond_wait(&writer_wakeup[id], &mutex);
        pthread_mutex_unlock(&mutex);
        counts[id]++;
    }
    return NULL;
}

static void *leader_writer(void *argument) {
    long id = (long)argument;
    while (!stop) {
        make_and_queue(id);
        promoted[id] = 0;
        if (leader_active)
            while (!done[id] && !promoted[id] && !stop) pthread_cond_wait(&writer_wakeup[id], &mutex);
        if (!done[id] && !stop) {
            int members[MAX_WRITERS];
            leader_active = 1;
            int count = take_queued(members);
            pthread_mutex_unlock(&mutex);
            plan_group();
            pwrite(fd, record, (size_t)RECORD * count, offset);
            offset += (long)RECORD * count;
            fdatasync(fd);
            syncs++;
            synced_writes += count;
            pthread_mutex_lock(&mutex);
            answer(members, count, (int)id);
            leader_active = 0;
            for (int i = 0; i < writers; i++)
                if (queued[i]) {
                    promoted[i] = 1;
                    leader_active = 1;
                    pthread_cond_signal(&writer_wakeup[i]);
                    break;
                }
        }
        pthread_mutex_unlock(&mutex);
        counts[id]++;
    }
    return NULL;
}

static void *parallel_writer(void *argument) {
    long id = (long)argument;
    long index = 0;
    while (!stop) {
        make_token();
        pwrite(fd, record, RECORD, (id * 100000 + index++ % 50000) * RECORD);
        fdatasync(fd);
        counts[id]++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s serial|pipelined|leader|parallel WRITERS [FILE]\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    writers = atoi(argv[2]);
    path = argc > 3 ? argv[3] : "/work/group-commit.dat";
    depth = strcmp(mode, "pipelined") == 0 ? (getenv("DEPTH") ? atoi(getenv("DEPTH")) : 2) : 0;
    if (writers < 1 || writers > MAX_WRITERS || depth < 0 || depth > 16) return 2;

    unlink(path);
    int file = open(path, O_CREAT | O_RDWR, 0600);
    char *zeros = calloc(1, 1 << 20);
    for (long at = 0; at < (long)MAX_WRITERS * 100000 * RECORD / 4; at += 1 << 20) pwrite(file, zeros, 1 << 20, at);
    fsync(file);
    close(file);
    fd = open(path, O_RDWR);
    memset(record, 0xA5, sizeof record);
    for (int i = 0; i < MAX_WRITERS; i++) pthread_cond_init(&writer_wakeup[i], NULL);

    pthread_t helpers[17], threads[MAX_WRITERS];
    int helper_count = 0;
    void *(*writer)(void *) = queued_writer;
    if (strcmp(mode, "leader") == 0) writer = leader_writer;
    else if (strcmp(mode, "parallel") == 0) writer = parallel_writer;
    else {
        pthread_create(&helpers[helper_count++], NULL, committer, NULL);
        for (long i = 0; i < depth; i++) pthread_create(&helpers[helper_count++], NULL, syncer, (void *)i);
    }
    double start = now();
    for (long i = 0; i < writers; i++) pthread_create(&threads[i], NULL, writer, (void *)i);
    sleep(3);
    stop = 1;
    double elapsed = now() - start;
    long total = 0;
    for (int i = 0; i < writers; i++) total += counts[i];
    printf("%s, %d writer%s: %.0f durable writes/s", mode, writers, writers == 1 ? "" : "s", total / elapsed);
    if (syncs > 0) printf(", %.2f writes per sync", (double)synced_writes / syncs);
    printf("\n");
    fflush(stdout);
    unlink(path);
    _exit(0);  // writers may still wait on the mutex: do not join them
}
