/* Process metrics in the names and meanings of the Prometheus Go client's
 * process collector, read from /proc at scrape time (small reads of
 * procfs files that never block on disk). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "metrics/internal.h"
#include "metrics/metrics.h"
#include "util/util.h"

/* The collector's state: borrowed family pointers (the registry owns the
 * families); the struct itself is freed by the registry (owned collector).
 */
struct proc_fams {
  struct met_family *cpu, *rss, *vsize, *open_fds, *max_fds, *start;
};

/* Fields of /proc/self/stat after the command name, which may itself
 * contain spaces and parentheses: parse from the last ')'. */
struct proc_stat {
  unsigned long utime, stime;   /* clock ticks */
  unsigned long long starttime; /* ticks after boot */
  unsigned long vsize;          /* bytes */
  long rss;                     /* pages */
};

static int read_file(const char *path, char *out, size_t size)
{
  FILE *f = fopen(path, "r");
  size_t n;

  if (!f)
    return -1;
  n = fread(out, 1, size - 1, f);
  fclose(f);
  out[n] = '\0';
  return n > 0 ? 0 : -1;
}

static int read_stat(struct proc_stat *st)
{
  char text[1024];
  const char *p;

  if (read_file("/proc/self/stat", text, sizeof(text)) != 0)
    return -1;
  p = strrchr(text, ')');
  if (!p)
    return -1;
  /* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
   * utime stime cutime cstime priority nice threads itrealvalue starttime
   * vsize rss */
  if (sscanf(p + 2,
             "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d "
             "%*d %*d %*d %*d %llu %lu %ld",
             &st->utime, &st->stime, &st->starttime, &st->vsize, &st->rss) != 5)
    return -1;
  return 0;
}

static double boot_time(void)
{
  char text[8192], *p;

  if (read_file("/proc/stat", text, sizeof(text)) != 0)
    return 0;
  p = strstr(text, "\nbtime ");
  return p ? strtod(p + 7, NULL) : 0;
}

static int count_fds(void)
{
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  int n = 0;

  if (!d)
    return -1;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n - 1; /* the descriptor opendir itself holds */
}

static void collect(struct met_registry *r, void *arg)
{
  struct proc_fams *pf = arg;
  long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
  struct proc_stat st;
  struct rlimit rl;
  int fds;

  (void)r;
  if (tick > 0 && page > 0 && read_stat(&st) == 0) {
    met_set(pf->cpu, NULL, (double)(st.utime + st.stime) / (double)tick);
    met_set(pf->rss, NULL, (double)st.rss * (double)page);
    met_set(pf->vsize, NULL, (double)st.vsize);
    met_set(pf->start, NULL, boot_time() + (double)st.starttime / (double)tick);
  }
  fds = count_fds();
  if (fds >= 0)
    met_set(pf->open_fds, NULL, fds);
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
    met_set(pf->max_fds, NULL,
            rl.rlim_cur == RLIM_INFINITY ? -1.0 : (double)rl.rlim_cur);
}

void met_register_process(struct met_registry *r)
{
  struct proc_fams *pf = util_xcalloc(1, sizeof(*pf));

  pf->cpu =
      met_counter(r, "process_cpu_seconds_total",
                  "Total user and system CPU time spent in seconds.", NULL);
  pf->open_fds = met_gauge(r, "process_open_fds",
                           "Number of open file descriptors.", NULL);
  pf->max_fds = met_gauge(r, "process_max_fds",
                          "Maximum number of open file descriptors.", NULL);
  pf->vsize = met_gauge(r, "process_virtual_memory_bytes",
                        "Virtual memory size in bytes.", NULL);
  pf->rss = met_gauge(r, "process_resident_memory_bytes",
                      "Resident memory size in bytes.", NULL);
  pf->start = met_gauge(r, "process_start_time_seconds",
                        "Start time of the process since unix epoch in "
                        "seconds.",
                        NULL);
  met__add_collector_owned(r, collect, pf);
}
