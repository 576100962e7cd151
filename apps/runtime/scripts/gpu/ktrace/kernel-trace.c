/*
 * kernel-trace.c: a CUPTI injection library that records every GPU kernel (and memcpy/memset) of a process with its
 * GPU-side start and end, for machines without nsys. The CUDA driver loads it from CUDA_INJECTION64_PATH and calls
 * InitializeInjection() once, at cuInit. Output (SDFLOW_KTRACE_OUT, default /tmp/ktrace.tsv), one record a line:
 *   start_ns <TAB> end_ns <TAB> stream_id <TAB> name
 * name last (mangled kernel name, or "[memcpy HtoD]", "[memset]", ...); '#' lines are comments: a header, and an
 * "# end ..." line with the counts once the process has exited cleanly (flush=0: the final flush succeeded).
 * Built and run by scripts/gpu/run.sh ktrace.
 * Records are written as CUPTI hands buffers back; a helper thread asks for completed buffers every
 * SDFLOW_KTRACE_FLUSH_MS (default 100, 0 = never) so that a process that dies early still leaves most of its trace.
 */
#include <cupti.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The record struct that the installed CUPTI fills for each kind: run.sh passes the newest version the header
 * declares (CUDA 13.0: CUpti_ActivityKernel10, CUpti_ActivityMemcpy6, CUpti_ActivityMemset4). */
#ifndef KTRACE_KERNEL_RECORD
#define KTRACE_KERNEL_RECORD CUpti_ActivityKernel10
#endif
#define KTRACE_STR2(x) #x
#define KTRACE_STR(x) KTRACE_STR2(x)

#define KTRACE_BUFFER_BYTES (4u << 20)

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER; /* guards g_out and the counters */
static FILE *g_out;
static pid_t g_pid;
static char g_path[4096];
static unsigned long long g_kernels, g_copies, g_sets, g_untimed, g_dropped;
static volatile sig_atomic_t g_finished;
static int g_initialized;

static pthread_t g_flusher;
static int g_flusher_running;
static unsigned g_flush_ms = 100;
static int g_flush_stop;
static pthread_mutex_t g_flush_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_flush_cond = PTHREAD_COND_INITIALIZER;

static struct sigaction g_old_term, g_old_int;

static const char *result_string(CUptiResult r) {
  const char *s = NULL;
  if (cuptiGetResultString(r, &s) != CUPTI_SUCCESS || !s) return "unknown CUPTI error";
  return s;
}

static void write_name(const char *name) {
  if (!name) name = "?";
  for (const char *p = name; *p; p++) fputc(*p == '\t' || *p == '\n' || *p == '\r' ? ' ' : *p, g_out);
  fputc('\n', g_out);
}

/* Timestamps of 0, or an end before the start, mean CUPTI could not time the activity: counted, not written. */
static int write_times(unsigned long long start, unsigned long long end, unsigned stream) {
  if (start == 0 || end < start) {
    g_untimed++;
    return 0;
  }
  fprintf(g_out, "%llu\t%llu\t%u\t", start, end, stream);
  return 1;
}

#ifdef KTRACE_MEMCPY_RECORD
static const char *copy_name(unsigned kind) {
  switch (kind) {
  case CUPTI_ACTIVITY_MEMCPY_KIND_HTOD: return "[memcpy HtoD]";
  case CUPTI_ACTIVITY_MEMCPY_KIND_DTOH: return "[memcpy DtoH]";
  case CUPTI_ACTIVITY_MEMCPY_KIND_DTOD: return "[memcpy DtoD]";
  case CUPTI_ACTIVITY_MEMCPY_KIND_HTOH: return "[memcpy HtoH]";
  case CUPTI_ACTIVITY_MEMCPY_KIND_PTOP: return "[memcpy PtoP]";
  default: return "[memcpy other]";
  }
}
#endif

/* Called with g_lock held and g_out open. Only start, end, streamId and name (or copyKind) are read. */
static void write_record(const CUpti_Activity *rec) {
  switch (rec->kind) {
  case CUPTI_ACTIVITY_KIND_KERNEL:
  case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL: {
    const KTRACE_KERNEL_RECORD *k = (const KTRACE_KERNEL_RECORD *)(const void *)rec;
    if (write_times(k->start, k->end, k->streamId)) {
      write_name(k->name);
      g_kernels++;
    }
    break;
  }
#ifdef KTRACE_MEMCPY_RECORD
  case CUPTI_ACTIVITY_KIND_MEMCPY: {
    const KTRACE_MEMCPY_RECORD *c = (const KTRACE_MEMCPY_RECORD *)(const void *)rec;
    if (write_times(c->start, c->end, c->streamId)) {
      write_name(copy_name(c->copyKind));
      g_copies++;
    }
    break;
  }
#endif
#ifdef KTRACE_MEMSET_RECORD
  case CUPTI_ACTIVITY_KIND_MEMSET: {
    const KTRACE_MEMSET_RECORD *m = (const KTRACE_MEMSET_RECORD *)(const void *)rec;
    if (write_times(m->start, m->end, m->streamId)) {
      write_name("[memset]");
      g_sets++;
    }
    break;
  }
#endif
  default:
    break;
  }
}

static void CUPTIAPI buffer_requested(uint8_t **buffer, size_t *size, size_t *max_records) {
  *buffer = aligned_alloc(8, KTRACE_BUFFER_BYTES); /* CUPTI wants 8-byte aligned buffers */
  *size = *buffer ? KTRACE_BUFFER_BYTES : 0;
  *max_records = 0;
}

static void CUPTIAPI buffer_completed(CUcontext ctx, uint32_t stream, uint8_t *buffer, size_t size, size_t valid) {
  (void)size;
  pthread_mutex_lock(&g_lock);
  if (g_out) {
    CUpti_Activity *rec = NULL;
    while (cuptiActivityGetNextRecord(buffer, valid, &rec) == CUPTI_SUCCESS) write_record(rec);
    fflush(g_out); /* what is on disk survives a kill */
  }
  size_t dropped = 0;
  if (cuptiActivityGetNumDroppedRecords(ctx, stream, &dropped) == CUPTI_SUCCESS) g_dropped += dropped;
  pthread_mutex_unlock(&g_lock);
  free(buffer);
}

/* A plain (non-forced) flush returns the buffers whose records are all complete, full or not. */
static void *flusher_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&g_flush_lock);
  while (!g_flush_stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += g_flush_ms / 1000;
    ts.tv_nsec += (long)(g_flush_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&g_flush_cond, &g_flush_lock, &ts);
    if (g_flush_stop) break;
    pthread_mutex_unlock(&g_flush_lock);
    cuptiActivityFlushAll(0);
    pthread_mutex_lock(&g_flush_lock);
  }
  pthread_mutex_unlock(&g_flush_lock);
  return NULL;
}

static void stop_flusher(void) {
  if (!g_flusher_running) return;
  pthread_mutex_lock(&g_flush_lock);
  g_flush_stop = 1;
  pthread_cond_signal(&g_flush_cond);
  pthread_mutex_unlock(&g_flush_lock);
  pthread_join(g_flusher, NULL);
  g_flusher_running = 0;
}

/* Forced flush (records of unfinished work come back too), then the closing line. Runs once, in the process
 * that opened the file (not in a forked child). join=0 from a signal handler, where the flusher is left alone. */
static void finish(int join) {
  if (g_pid != getpid() || g_finished) return;
  g_finished = 1;
  if (join) stop_flusher();
  CUptiResult r = cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  if (r != CUPTI_SUCCESS) fprintf(stderr, "ktrace: final cuptiActivityFlushAll failed: %s\n", result_string(r));
  pthread_mutex_lock(&g_lock);
  if (g_out) {
    fprintf(g_out, "# end kernels=%llu memcpys=%llu memsets=%llu untimed=%llu dropped=%llu flush=%d\n", g_kernels,
            g_copies, g_sets, g_untimed, g_dropped, (int)r);
    fclose(g_out);
    g_out = NULL;
    fprintf(stderr, "ktrace: %llu kernels, %llu memcpys, %llu memsets (%llu untimed, %llu dropped) in %s\n", g_kernels,
            g_copies, g_sets, g_untimed, g_dropped, g_path);
  }
  pthread_mutex_unlock(&g_lock);
}

static void at_exit(void) { finish(1); }

/* SIGTERM (timeout) or SIGINT: write what we have, then let the previous disposition (node's own handler, which
 * resets the terminal and re-raises, or the default) end the process. alarm(): a flush that hangs still ends. */
static void on_signal(int sig) {
  alarm(5);
  finish(0);
  sigaction(sig, sig == SIGTERM ? &g_old_term : &g_old_int, NULL);
  raise(sig);
}

static void chain_signal(int sig, struct sigaction *old) {
  if (sigaction(sig, NULL, old) != 0 || old->sa_handler == SIG_IGN) return;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

static int enable(CUpti_ActivityKind kind, const char *what) {
  CUptiResult r = cuptiActivityEnable(kind);
  if (r != CUPTI_SUCCESS) fprintf(stderr, "ktrace: cuptiActivityEnable(%s) failed: %s\n", what, result_string(r));
  return r == CUPTI_SUCCESS;
}

/* Returns 1 in every case: a tracing problem is reported on stderr and never stops the traced program. */
__attribute__((visibility("default"))) int InitializeInjection(void) {
  if (g_initialized) return 1;
  g_initialized = 1;
  const char *path = getenv("SDFLOW_KTRACE_OUT");
  snprintf(g_path, sizeof g_path, "%s", path && *path ? path : "/tmp/ktrace.tsv");
  const char *ms = getenv("SDFLOW_KTRACE_FLUSH_MS");
  if (ms && *ms) g_flush_ms = (unsigned)strtoul(ms, NULL, 10);

  CUptiResult r = cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed);
  if (r != CUPTI_SUCCESS) {
    fprintf(stderr, "ktrace: cuptiActivityRegisterCallbacks failed: %s; no trace\n", result_string(r));
    return 1;
  }
  g_out = fopen(g_path, "w");
  if (!g_out) {
    fprintf(stderr, "ktrace: cannot write %s; no trace\n", g_path);
    return 1;
  }
  g_pid = getpid();
  uint32_t version = 0;
  cuptiGetVersion(&version);
  fprintf(g_out, "# sdflow-ktrace 1 pid=%d cupti_api=%u kernel_record=%s\n", (int)g_pid, version,
          KTRACE_STR(KTRACE_KERNEL_RECORD));
  fflush(g_out);

  /* CONCURRENT_KERNEL, not KERNEL: the latter serialises all kernels. */
  if (!enable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, "CONCURRENT_KERNEL")) {
    fclose(g_out);
    g_out = NULL;
    return 1;
  }
#ifdef KTRACE_MEMCPY_RECORD
  enable(CUPTI_ACTIVITY_KIND_MEMCPY, "MEMCPY");
#endif
#ifdef KTRACE_MEMSET_RECORD
  enable(CUPTI_ACTIVITY_KIND_MEMSET, "MEMSET");
#endif
  atexit(at_exit);
  chain_signal(SIGTERM, &g_old_term);
  chain_signal(SIGINT, &g_old_int);
  if (g_flush_ms > 0 && pthread_create(&g_flusher, NULL, flusher_main, NULL) == 0) g_flusher_running = 1;
  fprintf(stderr, "ktrace: tracing kernels (%s) to %s\n", KTRACE_STR(KTRACE_KERNEL_RECORD), g_path);
  return 1;
}
