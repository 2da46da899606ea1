#include "process.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "common/cleanup.h"
#include "common/fds.h"
#include "common/fsutil.h"
#include "common/syscalls.h"
#include "procattr.h"

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

int
rf_process_join_session_keyring (const char *id, rf_error_t *err)
{
  cleanup_free char *name = xasprintf ("_ses.%s", id);
  /* A fresh session keyring keeps the host's keys out of the container;
     where keyctl is filtered out (nested containers), there are none to
     hide. */
  if (syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0) < 0
      && errno != ENOSYS && errno != EPERM && errno != EACCES)
    return rf_error_sys (err, "join a new session keyring");
  return 0;
}

int
rf_process_rlimits (const rf_process_t *p, rf_error_t *err)
{
  for (size_t i = 0; i < p->n_rlimits; i++)
    {
      const rf_rlimit_t *rl = &p->rlimits[i];
      struct rlimit lim = { rl->soft, rl->hard };
      if (setrlimit (rl->resource, &lim) < 0)
        {
          struct rlimit cur = { 0, 0 };
          int saved = errno;
          getrlimit (rl->resource, &cur);
          errno = saved;
          if (saved == EPERM && rl->hard > cur.rlim_max)
            return rf_error_sys (err,
                                 "process.rlimits: %s hard limit %llu is above this host's %llu,"
                                 " and raising it needs CAP_SYS_RESOURCE",
                                 rl->name, (unsigned long long) rl->hard,
                                 (unsigned long long) cur.rlim_max);
          return rf_error_sys (err, "process.rlimits: set %s to %llu/%llu", rl->name,
                               (unsigned long long) rl->soft, (unsigned long long) rl->hard);
        }
    }
  return 0;
}

int
rf_process_oom_score_adj (const rf_process_t *p, rf_error_t *err)
{
  char buf[16];
  int n, r;
  if (!p->has_oom_score_adj)
    return 0;
  n = snprintf (buf, sizeof buf, "%d", p->oom_score_adj);
  /* Dumpable for one write: else, in a user namespace, the file belongs to
     the host's root (rf_process_set_dumpable). */
  rf_process_set_dumpable (true);
  r = rf_write_file_at (AT_FDCWD, "/proc/self/oom_score_adj", buf, n, err);
  rf_process_set_dumpable (false);
  if (r < 0)
    return rf_error_wrap (err, "process.oomScoreAdj %d", p->oom_score_adj);
  return 0;
}

int
rf_process_identity (const rf_process_t *p, bool userns, rf_error_t *err)
{
  /* The bounding set can only shrink while CAP_SETPCAP is effective, so it
     goes first; KEEPCAPS keeps the permitted set across the uid change so
     that capset below can grant exactly what config.json lists. */
  if (p->caps.present && rf_caps_drop_bounding (&p->caps, err) < 0)
    return -1;
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return rf_error_sys (err, "keep capabilities across setuid");

  if (p->n_additional_gids > 0)
    {
      gid_t gids[p->n_additional_gids];
      for (size_t i = 0; i < p->n_additional_gids; i++)
        gids[i] = p->additional_gids[i];
      if (setgroups (p->n_additional_gids, gids) < 0)
        return rf_error_sys (err, "process.user.additionalGids: setgroups%s",
                             userns ? " (the user namespace may deny setgroups)" : "");
    }
  else if (setgroups (0, NULL) < 0 && !(userns && errno == EPERM))
    return rf_error_sys (err, "setgroups");

  if (setresgid (p->gid, p->gid, p->gid) < 0)
    return rf_error_sys (err, "process.user.gid %u: setgid", p->gid);
  if (setresuid (p->uid, p->uid, p->uid) < 0)
    return rf_error_sys (err, "process.user.uid %u: setuid", p->uid);

  if (p->caps.present)
    {
      if (rf_caps_apply (&p->caps, err) < 0)
        return -1;
    }
  else
    {
      rf_caps_t none = { 0 };
      if (rf_caps_apply (&none, err) < 0)
        return -1;
    }
  if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return rf_error_sys (err, "reset keepcaps");
  return 0;
}

static const char *
env_get (char *const *env, const char *key)
{
  size_t len = strlen (key);
  for (size_t i = 0; env && env[i]; i++)
    if (strncmp (env[i], key, len) == 0 && env[i][len] == '=')
      return env[i] + len + 1;
  return NULL;
}

/* The capabilities the kernel looks at to let an exec happen at all. */
#define EXEC_CAPS ((1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_DAC_READ_SEARCH))

/* A process that is not root keeps only its ambient capabilities across
   an exec: the exec of the program by the trampoline would be checked
   without the CAP_DAC_OVERRIDE or CAP_DAC_READ_SEARCH this process has
   (runc's process execs its program with them).  Those cross into the
   trampoline as ambient ones, and it sets the sets back to what the
   program would have been exec'd with from here (arg, runf-trampoline's
   CAPS).  The program then gets exactly what it gets from runc. */
static int
carry_exec_caps (const rf_caps_t *caps, char *arg, size_t len, rf_error_t *err)
{
  uint64_t carried = caps ? caps->effective & EXEC_CAPS : 0;
  uint64_t ambient;
  rf_caps_t hop;

  snprintf (arg, len, "-");
  if (carried == 0 || getuid () == 0)
    return 0;
  /* What rf_caps_apply raised: ambient ones also permitted and inheritable. */
  ambient = caps->ambient & caps->permitted & caps->inheritable;
  hop = *caps;
  hop.inheritable |= carried;
  hop.ambient = ambient | carried;
  if (rf_caps_apply (&hop, err) < 0)
    return rf_error_wrap (err, "carry CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH to the exec");
  snprintf (arg, len, "%llx:%llx:%llx:%llx", (unsigned long long) (carried | ambient),
            (unsigned long long) (carried | ambient), (unsigned long long) caps->inheritable,
            (unsigned long long) ambient);
  return 0;
}

int
rf_process_execve (const rf_final_exec_t *x, rf_error_t *err)
{
  char report[32], lsm[48], via_proc[32], caps[80];
  cleanup_free char **targv = NULL;
  size_t n = strv_len (x->argv);
  int saved;

  if (x->trampoline_fd < 0)
    {
      if (x->lsm_fd >= 0 && rf_lsm_write_exec_attr (x->lsm_fd, x->lsm_name, x->lsm_value, err) < 0)
        return -1;
      execve (x->exe, x->argv, x->envp);
      return rf_process_exec_error (err, x->exe, errno);
    }
  /* Through runf-trampoline (runtime/selfexe.h): the fds it needs cross this exec,
     and it marks the report fd close-on-exec again before its own.  This
     runs under the container's seccomp filter: where it refuses fcntl, the
     report fd stays behind (a failed exec is then told on stderr only),
     so that it cannot reach the container's program. */
  if (x->report_fd >= 0 && fcntl (x->report_fd, F_SETFD, 0) == 0)
    snprintf (report, sizeof report, "%d:%c", x->report_fd, x->report_kind);
  else
    snprintf (report, sizeof report, "-");
  if (x->lsm_fd >= 0)
    {
      if (fcntl (x->lsm_fd, F_SETFD, 0) < 0)
        return rf_error_sys (err, "exec %s: pass the LSM label's fd to the exec trampoline", x->exe);
      snprintf (lsm, sizeof lsm, "%d:%s", x->lsm_fd, x->lsm_name);
    }
  else
    snprintf (lsm, sizeof lsm, "-");
  if (carry_exec_caps (x->caps, caps, sizeof caps, err) < 0)
    return rf_error_wrap (err, "exec %s", x->exe);
  targv = xzalloc ((n + 7) * sizeof (char *));
  targv[0] = (char *) "runf-trampoline";
  targv[1] = report;
  targv[2] = lsm;
  targv[3] = (char *) (x->lsm_value ? x->lsm_value : "");
  targv[4] = caps;
  targv[5] = (char *) x->exe;
  for (size_t i = 0; i < n; i++)
    targv[6 + i] = x->argv[i];
  syscall (SYS_execveat, x->trampoline_fd, "", targv, x->envp, AT_EMPTY_PATH);
  saved = errno;
  /* Profiles older than execveat (Linux 3.19) refuse it: the same sealed
     file through /proc, with the execve every profile allows. */
  snprintf (via_proc, sizeof via_proc, "/proc/self/fd/%d", x->trampoline_fd);
  execve (via_proc, targv, x->envp);
  if (x->report_fd >= 0)
    fcntl (x->report_fd, F_SETFD, FD_CLOEXEC);
  if (x->lsm_fd >= 0)
    fcntl (x->lsm_fd, F_SETFD, FD_CLOEXEC);
  errno = saved;
  return rf_error_sys (err, "exec %s: start the exec trampoline", x->exe);
}

int
rf_process_exec_error (rf_error_t *err, const char *exe, int errnum)
{
  char text[128];
  snprintf (text, sizeof text, "%s", strerror (errnum));
  text[0] = (char) tolower ((unsigned char) text[0]);
  return rf_error_make (err, 0, "exec %s: %s", exe, text);
}

/* Whether the process, as it is now (after the change of identity), may
   exec path.  faccessat2's AT_EACCESS asks with the effective ids and
   capabilities: plain access() drops the capabilities of a process whose
   real uid is not 0, and would call a file CAP_DAC_OVERRIDE lets it exec
   not executable.  Where faccessat2 is missing (before 5.8) or filtered,
   an execute bit is enough here and execve has the last word. */
static bool
executable_p (const rf_process_t *p, const char *path, const struct stat *st)
{
  bool dac_override = (p->caps.present && (p->caps.effective & (1ULL << CAP_DAC_OVERRIDE)))
                      || (!p->caps.present && geteuid () == 0);
  if (faccessat (AT_FDCWD, path, X_OK, AT_EACCESS) == 0)
    return true;
  if (errno == EACCES && !dac_override)
    return false;
  return (st->st_mode & 0111) != 0;
}

/* Whether a failed stat says something about the file, rather than being
   the answer of a seccomp filter (EPERM, ENOSYS, or an errno of its own). */
static bool
stat_error_p (int e)
{
  return e == ENOENT || e == ENOTDIR || e == ELOOP || e == ENAMETOOLONG || e == EACCES;
}

char *
rf_process_find_executable (const rf_process_t *p, rf_error_t *err)
{
  const char *name = p->args[0];
  const char *path;
  cleanup_free char *copy = NULL;
  char *save = NULL;

  if (strchr (name, '/'))
    {
      struct stat st;
      if (stat (name, &st) < 0)
        {
          if (stat_error_p (errno))
            return rf_process_exec_error (err, name, errno), NULL;
          return xstrdup (name);
        }
      if (S_ISDIR (st.st_mode))
        return rf_error_make (err, 0, "exec %s: is a directory: permission denied", name), NULL;
      return xstrdup (name);
    }
  path = env_get (p->env, "PATH");
  if (path == NULL)
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  copy = xstrdup (path);
  for (char *dir = strtok_r (copy, ":", &save); dir; dir = strtok_r (NULL, ":", &save))
    {
      cleanup_free char *candidate = xasprintf ("%s/%s", *dir ? dir : ".", name);
      struct stat st;
      if (stat (candidate, &st) < 0 || !S_ISREG (st.st_mode))
        continue;
      if (executable_p (p, candidate, &st))
        return steal_pointer (&candidate);
    }
  /* runc's (Go's) words, which engines look for to exit 127. */
  return rf_error_make (err, 0, "exec: \"%s\": executable file not found in $PATH", name), NULL;
}

/* The most of /etc/passwd home_of reads. */
#define PASSWD_MAX (1024 * 1024)

/* HOME of uid from the container's /etc/passwd, as a login would set it.
   The file is the image's: a FIFO that nobody writes, a device (a link to
   /dev/zero) or an endless file would hold init, and the spawner waiting
   for it, for good.  So only a regular file is read, opened without
   blocking, and only its first MiB. */
static char *
home_of (uid_t uid)
{
  cleanup_fclose FILE *f = NULL;
  int fd = open ("/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  char line[1024];

  if (fd >= 0 && fstat (fd, &st) == 0 && S_ISREG (st.st_mode))
    f = fdopen (fd, "r");
  if (f == NULL && fd >= 0)
    close (fd);
  while (f && ftello (f) < PASSWD_MAX && fgets (line, sizeof line, f))
    {
      char *fields[7], *tok;
      int n = 0;
      unsigned long long id;

      line[strcspn (line, "\n")] = '\0';
      /* strtok_r would merge empty fields; split by hand. */
      for (tok = line; n < 7; n++)
        {
          fields[n] = tok;
          tok = strchr (tok, ':');
          if (tok == NULL)
            break;
          *tok++ = '\0';
        }
      if (n < 6 || rf_parse_uint64 (fields[2], UINT32_MAX, &id) < 0 || id != uid)
        continue;
      if (fields[5][0] == '/')
        return xstrdup (fields[5]);
    }
  return xstrdup ("/");
}

/* Whether env[0..n) has an entry for the key of kv (up to its '='). */
static bool
has_key (char *const *env, size_t n, const char *kv)
{
  size_t key = strcspn (kv, "=");
  for (size_t i = 0; i < n; i++)
    if (strncmp (env[i], kv, key) == 0 && env[i][key] == '=')
      return true;
  return false;
}

char **
rf_process_environ (const rf_process_t *p, int listen_fds)
{
  size_t n = strv_len (p->env), i = 0;
  char **env = xzalloc ((n + 4) * sizeof (char *));
  bool home_seen = false;

  /* A key given twice is set once, to its last value, as runc (and Go's
     os/exec) do: walked from the end, the first of a key seen wins, and
     the order is put back after.  An empty HOME, when it is the last,
     counts as none: HOME then comes from /etc/passwd. */
  for (size_t k = n; k-- > 0;)
    {
      const char *kv = p->env[k];
      if (listen_fds > 0 && (strncmp (kv, "LISTEN_FDS=", 11) == 0 || strncmp (kv, "LISTEN_PID=", 11) == 0))
        continue;
      if (strncmp (kv, "HOME=", 5) == 0)
        {
          if (home_seen)
            continue;
          home_seen = true;
          if (kv[5] == '\0')
            continue;
        }
      else if (has_key (env, i, kv))
        continue;
      env[i++] = xstrdup (kv);
    }
  for (size_t a = 0; a < i / 2; a++)
    {
      char *t = env[a];
      env[a] = env[i - 1 - a];
      env[i - 1 - a] = t;
    }
  if (env_get (env, "HOME") == NULL)
    {
      cleanup_free char *home = home_of (p->uid);
      env[i++] = xasprintf ("HOME=%s", home);
    }
  if (listen_fds > 0)
    {
      /* Socket activation names the process that owns the fds: the pid it
         sees of itself, which init keeps across the exec. */
      env[i++] = xasprintf ("LISTEN_FDS=%d", listen_fds);
      env[i++] = xasprintf ("LISTEN_PID=%d", (int) getpid ());
    }
  return env;
}

int
rf_process_prepare_fds (int keep, rf_error_t *err)
{
  for (int fd = 3; fd < 3 + keep; fd++)
    {
      int flags = fcntl (fd, F_GETFD);
      if (flags < 0)
        return rf_error_sys (err, "--preserve-fds: fd %d", fd);
      if ((flags & FD_CLOEXEC) && fcntl (fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
        return rf_error_sys (err, "--preserve-fds: fd %d", fd);
    }
  /* Every other fd was closed when the process began (rf_fds_close_except)
     and runf's own since are opened close-on-exec: marking the rest is a
     second line of defence, and a filter that refuses close_range (with
     /proc hidden) must not stop the container. */
  rf_fds_cloexec_from (3 + keep);
  return 0;
}

int
rf_process_enter_cwd (const rf_process_t *p, bool after_identity, rf_error_t *err)
{
  char buf[PATH_MAX];
  if (chdir (p->cwd) < 0)
    {
      /* A cwd only the final user may enter is retried after the uid change. */
      if (errno == EACCES && !after_identity)
        return 1;
      return rf_error_sys (err, "process.cwd `%s`", p->cwd);
    }
  /* The cwd comes from the config or an image (WorkingDir): through a
     magic link (/proc/self/fd/N, /proc/1/cwd) it can name a directory
     outside the container's root.  The kernel knows: a cwd that the root
     cannot reach has no path, and getcwd says ENOENT. */
  if (getcwd (buf, sizeof buf) == NULL && errno == ENOENT)
    return rf_error_make (err, 0, "process.cwd `%s`: outside the container's root", p->cwd);
  return 0;
}

void
rf_process_set_dumpable (bool on)
{
  prctl (PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0);
}
