/* floor: the kernel's floor for fresh containers, with no runtime at all.
 *
 *   floor [-j WORKERS] [-t SECONDS] [--netns] [--userns] [--vm] [-r ROOTFS]
 *
 * Each of -j workers (default: one per online CPU) loops for -t seconds
 * (default 5): clone a child into new mount, pid, ipc and uts namespaces
 * (and a network namespace with --netns) that makes its mounts private,
 * binds ROOTFS onto itself, mounts proc in it, pivot_roots into it, drops
 * the old root and execs the rootfs's static /bin/true (busybox); the
 * worker waits for it.  This is what any runtime must do for a container
 * at the least, so a runtime's containers per second over this figure is
 * how close it comes to what the machine allows (docs/functions.md,
 * "The floor").  With --userns each container also gets a user namespace
 * of its own (root in it mapped to 65536 ids from 1000000000, the worker
 * writing the maps while the child waits, as runfd's spawner does): the
 * isolation runfd's instances have that the plain floor lacks.  With --vm
 * the child shares the worker's memory until its exec (CLONE_VM), as
 * runfd's instances share their spawner's: no page tables copied, no page
 * copied on write, nothing torn down at the exec.
 *
 * ROOTFS defaults to ../fixtures/rootfs beside this program (the build's
 * busybox fixture).  Root only.  Prints one line to stdout:
 *
 *   floor: 2345.6/s (2 workers, netns no, userns no, vm no)
 *
 * A container that fails stops its worker; the child says why on stderr
 * and floor exits 1 with a line that counts them. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHILD_STACK (64 * 1024)

static struct
{
  const char *rootfs;
  const char *true_path; /* inside the rootfs */
  char *const *true_argv;
  int flags;
  bool userns;
  bool vm;
} cfg;

/* With --userns: the child waits on this pipe for its id maps. */
static int maps_pipe[2] = { -1, -1 };

/* What a worker tells the parent, in one write (below PIPE_BUF). */
typedef struct
{
  uint64_t containers;
  uint64_t failures;
  int first_status; /* the first failure's wait status */
  int64_t elapsed_ns;
} result_t;

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void __attribute__ ((noreturn))
usage (FILE *out, int status)
{
  fprintf (out, "usage: floor [-j WORKERS] [-t SECONDS] [--netns] [--userns] [--vm] [-r ROOTFS]\n"
                "  -j N       parallel loops (default: one per online CPU)\n"
                "  -t S       seconds to run (default 5; decimals allowed)\n"
                "  --netns    a network namespace for each container too\n"
                "  --userns   a user namespace for each container too (root mapped to 1000000000)\n"
                "  --vm       the child shares the worker's memory until its exec (CLONE_VM)\n"
                "  -r DIR     the rootfs (default: ../fixtures/rootfs beside floor)\n");
  exit (status);
}

static void __attribute__ ((noreturn, format (printf, 1, 2)))
die (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fputs ("floor: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  exit (1);
}

/* The container's side, in its new namespaces: what a runtime's init does
   before it execs, and nothing more.  It reports a failure in one line and
   exits 125 (127 when the exec fails). */
static int
container (void *arg)
{
  (void) arg;
  const char *what = "wait for the id maps";
  if (cfg.userns)
    {
      char c;
      close (maps_pipe[1]);
      if (read (maps_pipe[0], &c, 1) != 1)
        goto fail;
      close (maps_pipe[0]);
    }
  what = "mount --make-rprivate /";
  /* Private first, so that none of the mounts below reach the host's
     namespace through shared propagation. */
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    goto fail;
  what = "bind the rootfs onto itself";
  if (mount (cfg.rootfs, cfg.rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    goto fail;
  what = "chdir to the rootfs";
  if (chdir (cfg.rootfs) < 0)
    goto fail;
  what = "mount proc";
  if (mount ("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    goto fail;
  /* pivot_root(".", "."): the old root ends up stacked on the new one, and
     is detached at once (runc's way, no directory for the old root). */
  what = "pivot_root";
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    goto fail;
  what = "umount the old root";
  if (umount2 (".", MNT_DETACH) < 0)
    goto fail;
  what = "chdir /";
  if (chdir ("/") < 0)
    goto fail;
  execv (cfg.true_path, cfg.true_argv);
  fprintf (stderr, "floor: exec `%s` in `%s`: %s\n", cfg.true_path, cfg.rootfs, strerror (errno));
  _exit (127);
fail:
  fprintf (stderr, "floor: in the container: %s (`%s`): %s\n", what, cfg.rootfs, strerror (errno));
  _exit (125);
}

/* One container, waited for: its wait status, or -errno when the clone
   failed. */
static int
write_map (pid_t pid, const char *file)
{
  char path[64];
  int fd, ok;
  snprintf (path, sizeof path, "/proc/%d/%s", (int) pid, file);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ok = write (fd, "0 1000000000 65536\n", 19) == 19;
  close (fd);
  return ok ? 0 : -1;
}

static int
one (char *stack_top)
{
  int status;
  pid_t pid;
  if (cfg.userns && pipe2 (maps_pipe, O_CLOEXEC) < 0)
    return -errno;
  pid = clone (container, stack_top, cfg.flags | SIGCHLD, NULL);
  if (cfg.userns)
    {
      int e = errno;
      close (maps_pipe[0]);
      /* The child reads EOF instead of a byte when a map failed, and says so. */
      if (pid > 0 && write_map (pid, "uid_map") == 0 && write_map (pid, "gid_map") == 0)
        (void) !write (maps_pipe[1], "", 1);
      close (maps_pipe[1]);
      errno = e;
    }
  if (pid < 0)
    return -errno;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -errno;
  return status;
}

static void __attribute__ ((noreturn))
worker (int start_fd, int result_fd, double seconds)
{
  result_t r = { 0 };
  char *stack = malloc (CHILD_STACK);
  char c;
  int64_t start, end;

  if (stack == NULL)
    _exit (1);
  /* All workers start together, when the parent closes the pipe. */
  while (read (start_fd, &c, 1) < 0 && errno == EINTR)
    ;
  start = now_ns ();
  end = start + (int64_t) (seconds * 1e9);
  do
    {
      int status = one (stack + CHILD_STACK);
      if (status == 0)
        r.containers++;
      else
        {
          r.failures++;
          r.first_status = status;
          break;
        }
    }
  while (now_ns () < end);
  r.elapsed_ns = now_ns () - start;
  if (write (result_fd, &r, sizeof r) != sizeof r)
    _exit (1);
  _exit (0);
}

static const char *
status_text (int status, char *buf, size_t size)
{
  if (status < 0)
    snprintf (buf, size, "clone: %s", strerror (-status));
  else if (WIFEXITED (status))
    snprintf (buf, size, "exit status %d", WEXITSTATUS (status));
  else if (WIFSIGNALED (status))
    snprintf (buf, size, "killed by signal %d", WTERMSIG (status));
  else
    snprintf (buf, size, "wait status %#x", status);
  return buf;
}

/* ../fixtures/rootfs beside this program. */
static char *
default_rootfs (void)
{
  static char path[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", path, sizeof path - 32);
  char *slash;
  if (n <= 0)
    die ("readlink /proc/self/exe: %s; give -r ROOTFS", strerror (errno));
  path[n] = '\0';
  slash = strrchr (path, '/');
  strcpy (slash ? slash + 1 : path, "../fixtures/rootfs");
  return path;
}

static long
parse_long (const char *opt, const char *v, long min, long max)
{
  char *end;
  long n;
  errno = 0;
  n = v ? strtol (v, &end, 10) : 0;
  if (v == NULL || *v == '\0' || *end != '\0' || errno || n < min || n > max)
    die ("%s `%s`: expected a whole number from %ld to %ld", opt, v ? v : "", min, max);
  return n;
}

int
main (int argc, char **argv)
{
  static char *const true_argv[] = { "true", NULL };
  static char *const busybox_argv[] = { "busybox", "true", NULL };
  long workers = sysconf (_SC_NPROCESSORS_ONLN);
  double seconds = 5;
  bool netns = false;
  int start_pipe[2], result_pipe[2];
  uint64_t containers = 0, failures = 0;
  int first_status = 0;
  int64_t elapsed = 0;
  char path[PATH_MAX], why[128];
  struct stat st;

  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        usage (stdout, 0);
      else if (strcmp (a, "--netns") == 0)
        netns = true;
      else if (strcmp (a, "--userns") == 0)
        cfg.userns = true;
      else if (strcmp (a, "--vm") == 0)
        cfg.vm = true;
      else if (strcmp (a, "-j") == 0)
        workers = parse_long ("-j", v, 1, 4096), i++;
      else if (strcmp (a, "-t") == 0)
        {
          char *end;
          seconds = v ? strtod (v, &end) : 0;
          if (v == NULL || *v == '\0' || *end != '\0' || !(seconds > 0 && seconds <= 3600))
            die ("-t `%s`: expected seconds above 0 and up to 3600", v ? v : "");
          i++;
        }
      else if (strcmp (a, "-r") == 0)
        {
          if (v == NULL || *v == '\0')
            die ("-r: expected the rootfs's directory");
          cfg.rootfs = v, i++;
        }
      else
        die ("unknown option `%s` (floor --help)", a);
    }
  if (workers < 1)
    workers = 1;
  if (geteuid () != 0)
    die ("needs root (it makes mount and pid namespaces and mounts in them)");

  if (cfg.rootfs == NULL)
    cfg.rootfs = default_rootfs ();
  /* The rootfs is bound onto itself and pivot_root'd into: an absolute,
     resolved path, so that the child's chdir lands on the bind mount. */
  if (realpath (cfg.rootfs, path) == NULL)
    die ("rootfs `%s`: %s", cfg.rootfs, strerror (errno));
  cfg.rootfs = strdup (path);
  snprintf (path, sizeof path, "%s/proc", cfg.rootfs);
  if (stat (path, &st) < 0 || !S_ISDIR (st.st_mode))
    die ("rootfs `%s`: no proc directory to mount proc on", cfg.rootfs);
  snprintf (path, sizeof path, "%s/bin/true", cfg.rootfs);
  cfg.true_path = "/bin/true", cfg.true_argv = true_argv;
  if (access (path, X_OK) < 0)
    {
      snprintf (path, sizeof path, "%s/bin/busybox", cfg.rootfs);
      if (access (path, X_OK) < 0)
        die ("rootfs `%s`: neither bin/true nor bin/busybox is there to run", cfg.rootfs);
      cfg.true_path = "/bin/busybox", cfg.true_argv = busybox_argv;
    }
  cfg.flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | (netns ? CLONE_NEWNET : 0)
              | (cfg.userns ? CLONE_NEWUSER : 0) | (cfg.vm ? CLONE_VM : 0);

  /* One container first, alone: a rootfs or a kernel that will not do
     says so once, not once per worker. */
  {
    char *stack = malloc (CHILD_STACK);
    int status;
    if (stack == NULL)
      die ("out of memory");
    fflush (NULL);
    status = one (stack + CHILD_STACK);
    free (stack);
    if (status < 0)
      die ("clone of the namespaces: %s", strerror (-status));
    /* 125 and 127: the child said why, in one line. */
    if (WIFEXITED (status) && (WEXITSTATUS (status) == 125 || WEXITSTATUS (status) == 127))
      exit (1);
    if (status != 0)
      die ("the first container: `%s` in `%s`: %s", cfg.true_path, cfg.rootfs, status_text (status, why, sizeof why));
  }

  if (pipe2 (start_pipe, O_CLOEXEC) < 0 || pipe2 (result_pipe, O_CLOEXEC) < 0)
    die ("pipe: %s", strerror (errno));
  fflush (NULL);
  for (long w = 0; w < workers; w++)
    {
      pid_t pid = fork ();
      if (pid < 0)
        die ("fork: %s", strerror (errno));
      if (pid == 0)
        {
          close (start_pipe[1]);
          close (result_pipe[0]);
          worker (start_pipe[0], result_pipe[1], seconds);
        }
    }
  close (start_pipe[0]);
  close (result_pipe[1]);
  close (start_pipe[1]);
  for (long w = 0; w < workers; w++)
    {
      result_t r;
      ssize_t n;
      while ((n = read (result_pipe[0], &r, sizeof r)) < 0 && errno == EINTR)
        ;
      if (n != sizeof r)
        die ("a worker died without its count");
      containers += r.containers;
      if (r.failures && !failures)
        first_status = r.first_status;
      failures += r.failures;
      if (r.elapsed_ns > elapsed)
        elapsed = r.elapsed_ns;
    }
  while (wait (NULL) > 0 || errno == EINTR)
    ;
  printf ("floor: %.1f/s (%ld workers, netns %s, userns %s, vm %s)\n",
          elapsed > 0 ? containers / (elapsed / 1e9) : 0.0, workers, netns ? "yes" : "no",
          cfg.userns ? "yes" : "no", cfg.vm ? "yes" : "no");
  fflush (stdout);
  if (failures)
    die ("%llu of %llu containers failed (the first: %s)", (unsigned long long) failures,
         (unsigned long long) (containers + failures), status_text (first_status, why, sizeof why));
  return 0;
}
