#include "criu.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"

/* A reply carries at most one fd (the pty master of "orphan-pts-master"). */
#define CMSG_ROOM CMSG_SPACE (sizeof (int))

static const char *
criu_binary (const char *binary)
{
  return binary && *binary ? binary : "criu";
}

/* Fork and exec `criu swrk <fd>`.  What the child may fail at (the exec
   above all) comes back as an errno over a close-on-exec pipe, so that a
   missing criu is one line, not a message from the child. */
static pid_t
spawn_swrk (const runf_criu_call_t *call, int *sk_out, rf_error_t *err)
{
  const char *bin = criu_binary (call->binary);
  cleanup_close int sk_parent = -1;
  cleanup_close int sk_child = -1;
  int sks[2], pipefd[2], child_errno = 0;
  pid_t pid;
  ssize_t n;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sks) < 0)
    return rf_error_sys (err, "CRIU: socketpair");
  sk_parent = sks[0];
  sk_child = sks[1];
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return rf_error_sys (err, "CRIU: pipe");
  pid = fork ();
  if (pid < 0)
    {
      close (pipefd[0]);
      close (pipefd[1]);
      return rf_error_sys (err, "CRIU: fork");
    }
  if (pid == 0)
    {
      sigset_t none;
      char fdarg[16];

      /* criu catches SIGCHLD of the tasks it restores; `restore` without
         --detach blocked the signals it forwards before getting here. */
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      close (pipefd[0]);
      /* CRIU's log file has everything; what it also prints on stderr
         (warnings about how it was built, before it opens the log) would
         break runf's one error line.  --debug keeps it. */
      if (!rf_log_debug_p ())
        {
          int null = open ("/dev/null", O_WRONLY | O_CLOEXEC);
          if (null < 0 || dup2 (null, STDERR_FILENO) < 0)
            goto fail;
        }
      if (fcntl (sk_child, F_SETFD, 0) < 0)
        goto fail;
      for (size_t i = 0; i < call->n_keep_fds; i++)
        if (fcntl (call->keep_fds[i], F_SETFD, 0) < 0)
          goto fail;
      snprintf (fdarg, sizeof fdarg, "%d", sk_child);
      execlp (bin, bin, "swrk", fdarg, (char *) NULL);
    fail:
      child_errno = errno;
      (void) !write (pipefd[1], &child_errno, sizeof child_errno);
      _exit (127);
    }
  close (pipefd[1]);
  do
    n = read (pipefd[0], &child_errno, sizeof child_errno);
  while (n < 0 && errno == EINTR);
  close (pipefd[0]);
  if (n == sizeof child_errno)
    {
      while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
      if (child_errno == ENOENT)
        return rf_error_make (err, 0, "CRIU: run `%s`: %s (install Debian's criu, or give its path with --criu)",
                              bin, strerror (child_errno));
      errno = child_errno;
      return rf_error_sys (err, "CRIU: run `%s`", bin);
    }
  *sk_out = steal_fd (&sk_parent);
  return pid;
}

static void
reap (pid_t pid)
{
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

static int
send_req (int sk, const CriuReq *req, rf_error_t *err)
{
  size_t len = criu_req__get_packed_size (req);
  cleanup_free uint8_t *buf = xmalloc (len ? len : 1);
  ssize_t n;

  criu_req__pack (req, buf);
  do
    n = send (sk, buf, len, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0 || (size_t) n != len)
    return rf_error_sys (err, "CRIU: send the request");
  return 0;
}

/* One message from criu; *fd gets a passed fd, or -1.  0 at EOF (criu went
   away without answering). */
static int
recv_resp (int sk, CriuResp **out, int *fd, rf_error_t *err)
{
  union
  {
    char buf[CMSG_ROOM];
    struct cmsghdr align;
  } control;
  cleanup_free uint8_t *buf = NULL;
  struct msghdr msg;
  struct iovec iov;
  struct cmsghdr *cmsg;
  ssize_t len;

  *out = NULL;
  *fd = -1;
  /* SEQPACKET keeps message boundaries: peek at the size first. */
  do
    len = recv (sk, NULL, 0, MSG_PEEK | MSG_TRUNC);
  while (len < 0 && errno == EINTR);
  if (len < 0)
    return rf_error_sys (err, "CRIU: read its answer");
  if (len == 0)
    return 0;
  buf = xmalloc ((size_t) len);
  iov.iov_base = buf;
  iov.iov_len = (size_t) len;
  memset (&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  do
    len = recvmsg (sk, &msg, MSG_CMSG_CLOEXEC);
  while (len < 0 && errno == EINTR);
  if (len < 0)
    return rf_error_sys (err, "CRIU: read its answer");
  for (cmsg = CMSG_FIRSTHDR (&msg); cmsg; cmsg = CMSG_NXTHDR (&msg, cmsg))
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS
        && cmsg->cmsg_len >= CMSG_LEN (sizeof (int)))
      memcpy (fd, CMSG_DATA (cmsg), sizeof (int));
  *out = criu_resp__unpack (NULL, (size_t) len, buf);
  if (*out == NULL)
    {
      if (*fd >= 0)
        close (*fd);
      *fd = -1;
      return rf_error_make (err, EPROTO, "CRIU: an answer runf cannot read");
    }
  return 1;
}

static const char *
type_name (CriuReqType type)
{
  switch (type)
    {
    case CRIU_REQ_TYPE__DUMP: return "dump";
    case CRIU_REQ_TYPE__PRE_DUMP: return "pre-dump";
    case CRIU_REQ_TYPE__RESTORE: return "restore";
    case CRIU_REQ_TYPE__VERSION: return "version";
    default: return "request";
    }
}

char *
runf_criu_log_error (const char *log_path)
{
  cleanup_fclose FILE *f = NULL;
  cleanup_free char *line = NULL;
  char *first = NULL, *last = NULL;
  size_t cap = 0;
  ssize_t len;

  if (log_path == NULL || (f = fopen (log_path, "re")) == NULL)
    return NULL;
  while ((len = getline (&line, &cap, f)) >= 0)
    {
      char *msg = strstr (line, "Error (");
      char *end;
      if (msg == NULL)
        continue;
      while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
      /* "(00.1) Error (criu/file.c:12): what": keep "what". */
      end = strstr (msg, "): ");
      msg = end ? end + 3 : msg;
      free (last);
      last = xstrdup (msg);
      /* The first error is the cause, the later ones its consequences,
         down to CRIU's closing "Dumping FAILED.".  Not a cause: CRIU logs
         as an error that it could not raise its own RLIMIT_NOFILE (root
         without CAP_SYS_RESOURCE), and goes on without. */
      if (first == NULL && !strstr (msg, "FAILED") && !strstr (msg, "Can't setup RLIMIT_NOFILE"))
        first = xstrdup (msg);
    }
  if (first)
    {
      free (last);
      return first;
    }
  return last;
}

static int
fail_text (const runf_criu_call_t *call, CriuReqType type, const CriuResp *resp,
           rf_error_t *err)
{
  cleanup_free char *why = runf_criu_log_error (call->log_path);
  const char *said = why ? why : resp && resp->cr_errmsg && *resp->cr_errmsg ? resp->cr_errmsg : NULL;

  if (said && call->log_path)
    return rf_error_make (err, 0, "CRIU %s failed: %s (log: %s)", type_name (type), said,
                          call->log_path);
  if (said)
    return rf_error_make (err, 0, "CRIU %s failed: %s", type_name (type), said);
  if (call->log_path)
    return rf_error_make (err, resp && resp->has_cr_errno ? resp->cr_errno : 0,
                          "CRIU %s failed (log: %s)", type_name (type), call->log_path);
  return rf_error_make (err, resp && resp->has_cr_errno ? resp->cr_errno : 0, "CRIU %s failed",
                        type_name (type));
}

static int
exchange (const runf_criu_call_t *call, int sk, CriuReqType type, CriuResp **final,
          rf_error_t *err)
{
  for (;;)
    {
      CriuResp *resp;
      int fd, r = recv_resp (sk, &resp, &fd, err);
      if (r < 0)
        return -1;
      if (r == 0)
        return fail_text (call, type, NULL, err);
      if (resp->type != CRIU_REQ_TYPE__NOTIFY)
        {
          if (fd >= 0)
            close (fd);
          *final = resp;
          return 0;
        }
      {
        CriuReq ack = CRIU_REQ__INIT;
        const char *script = resp->notify && resp->notify->script ? resp->notify->script : "";
        pid_t pid = resp->notify && resp->notify->has_pid ? resp->notify->pid : 0;
        rf_debug ("CRIU notifies `%s` (pid %d)", script, (int) pid);
        r = call->notify ? call->notify (script, pid, fd, call->data, err)
                         : (fd >= 0 ? close (fd) : 0, 0);
        criu_resp__free_unpacked (resp, NULL);
        /* A failed step makes CRIU undo the restore; it answers with a
           failure of its own, which this error then stands for. */
        ack.type = CRIU_REQ_TYPE__NOTIFY;
        ack.has_notify_success = true;
        ack.notify_success = r == 0;
        if (send_req (sk, &ack, r < 0 ? NULL : err) < 0 && r == 0)
          return -1;
        if (r < 0)
          {
            CriuResp *last = NULL;
            rf_error_t ignored = NULL;
            /* Drain CRIU's closing answer so that it exits. */
            while (recv_resp (sk, &last, &fd, &ignored) > 0 && last->type == CRIU_REQ_TYPE__NOTIFY)
              {
                if (fd >= 0)
                  close (fd);
                criu_resp__free_unpacked (last, NULL);
                last = NULL;
                ack.notify_success = false;
                if (send_req (sk, &ack, NULL) < 0)
                  break;
              }
            if (fd >= 0)
              close (fd);
            if (last)
              criu_resp__free_unpacked (last, NULL);
            rf_error_free (&ignored);
            return -1;
          }
      }
    }
}

int
runf_criu_request (const runf_criu_call_t *call, CriuReqType type, CriuOpts *opts,
                   pid_t *pid, rf_error_t *err)
{
  CriuReq req = CRIU_REQ__INIT;
  CriuResp *resp = NULL;
  int sk = -1, r;
  pid_t criu;

  if (pid)
    *pid = 0;
  criu = spawn_swrk (call, &sk, err);
  if (criu < 0)
    return -1;
  r = call->started ? call->started (criu, call->data, err) : 0;
  if (r == 0)
    {
      req.type = type;
      req.opts = opts;
      r = send_req (sk, &req, err);
    }
  if (r == 0)
    r = exchange (call, sk, type, &resp, err);
  /* criu swrk exits when the socket closes; a pre-dump waits for the final
     dump that never comes, and stops at the same EOF. */
  shutdown (sk, SHUT_WR);
  close (sk);
  reap (criu);
  if (r < 0)
    {
      if (resp)
        criu_resp__free_unpacked (resp, NULL);
      return -1;
    }
  if (!resp->success)
    {
      fail_text (call, type, resp, err);
      criu_resp__free_unpacked (resp, NULL);
      return -1;
    }
  if (pid && type == CRIU_REQ_TYPE__RESTORE && resp->restore)
    *pid = resp->restore->pid;
  criu_resp__free_unpacked (resp, NULL);
  return 0;
}

int
runf_criu_version (const char *binary, int *version, rf_error_t *err)
{
  runf_criu_call_t call = { .binary = binary };
  CriuReq req = CRIU_REQ__INIT;
  CriuResp *resp = NULL;
  int sk = -1, r;
  pid_t criu;

  criu = spawn_swrk (&call, &sk, err);
  if (criu < 0)
    return -1;
  req.type = CRIU_REQ_TYPE__VERSION;
  r = send_req (sk, &req, err);
  if (r == 0)
    r = exchange (&call, sk, CRIU_REQ_TYPE__VERSION, &resp, err);
  close (sk);
  reap (criu);
  if (r < 0)
    return -1;
  if (!resp->success || resp->version == NULL)
    {
      criu_resp__free_unpacked (resp, NULL);
      return rf_error_make (err, 0, "CRIU `%s` does not answer a version request (too old?)",
                            criu_binary (binary));
    }
  *version = resp->version->major_number * 10000 + resp->version->minor_number * 100
             + (resp->version->has_sublevel ? resp->version->sublevel : 0);
  criu_resp__free_unpacked (resp, NULL);
  return 0;
}

int
runf_criu_mem_track (const char *binary, bool *available, rf_error_t *err)
{
  runf_criu_call_t call = { .binary = binary };
  CriuFeatures want = CRIU_FEATURES__INIT;
  CriuReq req = CRIU_REQ__INIT;
  CriuResp *resp = NULL;
  int sk = -1, r;
  pid_t criu;

  *available = false;
  criu = spawn_swrk (&call, &sk, err);
  if (criu < 0)
    return -1;
  want.has_mem_track = true;
  want.mem_track = true;
  req.type = CRIU_REQ_TYPE__FEATURE_CHECK;
  req.features = &want;
  r = send_req (sk, &req, err);
  if (r == 0)
    r = exchange (&call, sk, CRIU_REQ_TYPE__FEATURE_CHECK, &resp, err);
  close (sk);
  reap (criu);
  if (r < 0)
    return -1;
  *available = resp->success && resp->features && resp->features->has_mem_track
               && resp->features->mem_track;
  criu_resp__free_unpacked (resp, NULL);
  return 0;
}

int
runf_criu_cg_mode (const char *name, CriuCgMode *mode, rf_error_t *err)
{
  static const struct
  {
    const char *name;
    CriuCgMode mode;
  } modes[] = {
    { "soft", CRIU_CG_MODE__SOFT },
    { "full", CRIU_CG_MODE__FULL },
    { "strict", CRIU_CG_MODE__STRICT },
    { "ignore", CRIU_CG_MODE__IGNORE },
  };
  for (size_t i = 0; i < ARRAY_SIZE (modes); i++)
    if (strcmp (name, modes[i].name) == 0)
      {
        *mode = modes[i].mode;
        return 0;
      }
  return rf_error_make (err, 0, "--manage-cgroups-mode `%s`: expected soft, full, strict or ignore",
                        name);
}

int
runf_criu_empty_ns (const char *name, uint32_t *mask, rf_error_t *err)
{
  if (strcmp (name, "network") != 0 && strcmp (name, "net") != 0)
    return rf_error_make (err, 0, "--empty-ns `%s`: CRIU can leave only the network namespace empty",
                          name);
  *mask |= CLONE_NEWNET;
  return 0;
}

const char *
runf_criu_ns_key (int flag)
{
  return flag == CLONE_NEWNET ? "extRootNetNS" : flag == CLONE_NEWPID ? "extRootPidNS" : NULL;
}

const char *
runf_criu_config_file (const rf_spec_t *spec)
{
  for (size_t i = 0; spec->annotations && spec->annotations[i]; i += 2)
    if (strcmp (spec->annotations[i], "org.criu.config") == 0)
      return *spec->annotations[i + 1] ? spec->annotations[i + 1] : NULL;
  return "/etc/criu/runf.conf";
}

/* One line of mountinfo: what deciding on external mounts needs. */
typedef struct
{
  unsigned major, minor;
  char *root;
  char *mountpoint;
} mount_line_t;

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *
unescape (const char *s)
{
  char *out = xmalloc (strlen (s) + 1), *o = out;
  while (*s)
    {
      if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0'
          && s[3] <= '7')
        {
          *o++ = (char) (((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
          s += 4;
        }
      else
        *o++ = *s++;
    }
  *o = '\0';
  return out;
}

char **
runf_criu_external_mounts (const char *mountinfo)
{
  cleanup_free char *text = xstrdup (mountinfo);
  mount_line_t *m = NULL;
  char **out = xzalloc (sizeof *out);
  char *line, *save = NULL;
  size_t n = 0, n_out = 0;

  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char root[4096], mp[4096];
      unsigned major, minor;
      if (sscanf (line, "%*d %*d %u:%u %4095s %4095s", &major, &minor, root, mp) != 4)
        continue;
      m = xrealloc (m, (n + 1) * sizeof *m);
      m[n].major = major;
      m[n].minor = minor;
      m[n].root = unescape (root);
      m[n].mountpoint = unescape (mp);
      n++;
    }
  /* CRIU saves a bind by way of a mount of the same file system, in the
     same namespace, at or above the bind's root; a bind that has none
     (a cgroup directory, a host device node, a bundle directory) shows
     something from outside. */
  for (size_t i = 0; i < n; i++)
    {
      bool reachable = false;
      if (strcmp (m[i].root, "/") == 0 || strcmp (m[i].mountpoint, "/") == 0)
        continue;
      for (size_t k = 0; k < n && !reachable; k++)
        {
          size_t len = strlen (m[k].root);
          if (k == i || m[k].major != m[i].major || m[k].minor != m[i].minor)
            continue;
          reachable = strcmp (m[k].root, "/") == 0
                      || (strncmp (m[k].root, m[i].root, len) == 0 && m[i].root[len] == '/');
        }
      if (!reachable)
        {
          out = xrealloc (out, (n_out + 2) * sizeof *out);
          out[n_out++] = xstrdup (m[i].mountpoint);
          out[n_out] = NULL;
        }
    }
  for (size_t i = 0; i < n; i++)
    {
      free (m[i].root);
      free (m[i].mountpoint);
    }
  free (m);
  return out;
}

#define APPEND(array, n, item)                                                \
  do                                                                          \
    {                                                                         \
      (array) = xrealloc ((array), ((n) + 1) * sizeof *(array));              \
      (array)[(n)++] = (item);                                                \
    }                                                                         \
  while (0)

void
runf_criu_add_ext_mount (CriuOpts *opts, const char *key, const char *val)
{
  ExtMountMap *m = xmalloc (sizeof *m);
  ext_mount_map__init (m);
  m->key = xstrdup (key);
  m->val = xstrdup (val);
  APPEND (opts->ext_mnt, opts->n_ext_mnt, m);
}

void
runf_criu_add_external (CriuOpts *opts, const char *spec)
{
  APPEND (opts->external, opts->n_external, xstrdup (spec));
}

void
runf_criu_add_inherit_fd (CriuOpts *opts, const char *key, int fd)
{
  InheritFd *i = xmalloc (sizeof *i);
  inherit_fd__init (i);
  i->key = xstrdup (key);
  i->fd = fd;
  APPEND (opts->inherit_fd, opts->n_inherit_fd, i);
}

void
runf_criu_add_join_ns (CriuOpts *opts, const char *ns, const char *file)
{
  JoinNamespace *j = xmalloc (sizeof *j);
  join_namespace__init (j);
  j->ns = xstrdup (ns);
  j->ns_file = xstrdup (file);
  APPEND (opts->join_ns, opts->n_join_ns, j);
}

void
runf_criu_add_cg_root (CriuOpts *opts, const char *ctrl, const char *path)
{
  CgroupRoot *c = xmalloc (sizeof *c);
  cgroup_root__init (c);
  c->ctrl = ctrl && *ctrl ? xstrdup (ctrl) : NULL;
  c->path = xstrdup (path);
  APPEND (opts->cg_root, opts->n_cg_root, c);
}

void
runf_criu_opts_clear (CriuOpts *opts)
{
  for (size_t i = 0; i < opts->n_ext_mnt; i++)
    {
      free (opts->ext_mnt[i]->key);
      free (opts->ext_mnt[i]->val);
      free (opts->ext_mnt[i]);
    }
  free (opts->ext_mnt);
  for (size_t i = 0; i < opts->n_external; i++)
    free (opts->external[i]);
  free (opts->external);
  for (size_t i = 0; i < opts->n_inherit_fd; i++)
    {
      free (opts->inherit_fd[i]->key);
      free (opts->inherit_fd[i]);
    }
  free (opts->inherit_fd);
  for (size_t i = 0; i < opts->n_join_ns; i++)
    {
      free (opts->join_ns[i]->ns);
      free (opts->join_ns[i]->ns_file);
      free (opts->join_ns[i]);
    }
  free (opts->join_ns);
  for (size_t i = 0; i < opts->n_cg_root; i++)
    {
      free (opts->cg_root[i]->ctrl);
      free (opts->cg_root[i]->path);
      free (opts->cg_root[i]);
    }
  free (opts->cg_root);
  opts->ext_mnt = NULL;
  opts->external = NULL;
  opts->inherit_fd = NULL;
  opts->join_ns = NULL;
  opts->cg_root = NULL;
  opts->n_ext_mnt = opts->n_external = opts->n_inherit_fd = opts->n_join_ns = opts->n_cg_root = 0;
}
