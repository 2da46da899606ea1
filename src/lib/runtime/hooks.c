#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/syscalls.h"

extern char **environ;

static const char *const kind_names[RF_HOOK_KINDS] = {
  "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

int
rf_hooks_parse (json_t *obj, rf_hooks_t *out, rf_error_t *err)
{
  memset (out, 0, sizeof *out);
  if (obj == NULL || json_is_null (obj))
    return 0;
  if (!json_is_object (obj))
    return rf_error_make (err, 0, "hooks: expected an object");
  for (int k = 0; k < RF_HOOK_KINDS; k++)
    {
      json_t *arr = NULL, *item;
      size_t i;
      if (rf_json_get_array (obj, "hooks", kind_names[k], &arr, err) < 0)
        goto fail;
      if (arr == NULL)
        continue;
      out->list[k] = xzalloc ((json_array_size (arr) + 1) * sizeof (rf_hook_t));
      json_array_foreach (arr, i, item)
        {
          cleanup_free char *where = xasprintf ("hooks.%s[%zu]", kind_names[k], i);
          rf_hook_t *h = &out->list[k][out->n[k]++];
          const char *path = NULL;
          int64_t timeout = 0;

          if (!json_is_object (item))
            {
              rf_error_make (err, 0, "%s: expected an object", where);
              goto fail;
            }
          if (rf_json_get_string (item, where, "path", &path, err) < 0
              || rf_json_get_strv (item, where, "args", &h->args, err) < 0
              || rf_json_get_strv (item, where, "env", &h->env, err) < 0
              || rf_json_get_int64 (item, where, "timeout", &timeout, err) < 0)
            goto fail;
          if (path == NULL || path[0] != '/')
            {
              rf_error_make (err, 0, "%s.path: `%s` must be an absolute path", where, path ? path : "");
              goto fail;
            }
          if (json_object_get (item, "timeout") && (timeout <= 0 || timeout > 86400))
            {
              rf_error_make (err, 0, "%s.timeout: %lld must be 1..86400 seconds", where, (long long) timeout);
              goto fail;
            }
          h->path = xstrdup (path);
          h->timeout = (int) timeout;
          /* startContainer runs inside the container: its path is only
             known there. */
          if (k != RF_HOOK_START_CONTAINER && access (path, X_OK) < 0)
            {
              rf_error_sys (err, "%s.path `%s`", where, path);
              goto fail;
            }
        }
    }
  return 0;

fail:
  rf_hooks_clear (out);
  return -1;
}

void
rf_hooks_clear (rf_hooks_t *h)
{
  for (int k = 0; k < RF_HOOK_KINDS; k++)
    {
      for (size_t i = 0; i < h->n[k]; i++)
        {
          free (h->list[k][i].path);
          strv_free (h->list[k][i].args);
          strv_free (h->list[k][i].env);
        }
      free (h->list[k]);
    }
  memset (h, 0, sizeof *h);
}

char *
rf_hooks_state_json (const char *id, const char *status, pid_t pid, const char *bundle,
                     char *const *annotations)
{
  cleanup_json json_t *doc = NULL;
  json_t *ann = json_object ();
  for (size_t i = 0; annotations && annotations[i]; i += 2)
    json_object_set_new (ann, annotations[i], json_string (annotations[i + 1]));
  doc = json_pack ("{s:s, s:s, s:s, s:i, s:s, s:o}", "ociVersion", "1.2.0", "id", id, "status", status,
                   "pid", (int) pid, "bundle", bundle, "annotations", ann);
  return json_dumps (doc, JSON_COMPACT);
}

/* Wait for a hook that has a timeout: 1 when it ran out. */
static int
wait_bounded (pid_t pid, int timeout_s, int *status)
{
  int pidfd = rf_pidfd_open (pid);
  if (pidfd >= 0)
    {
      struct pollfd p = { .fd = pidfd, .events = POLLIN };
      int r;
      do
        r = poll (&p, 1, timeout_s * 1000);
      while (r < 0 && errno == EINTR);
      close (pidfd);
      return r == 0;
    }
  /* Without a pidfd (a kernel before 5.3, or startContainer's hooks under
     a seccomp filter that refuses pidfd_open), the hook is looked at every
     few milliseconds; the status is kept for the caller. */
  for (long waited_ms = 0; waited_ms < timeout_s * 1000L; waited_ms += 5)
    {
      pid_t got = waitpid (pid, status, WNOHANG);
      if (got == pid)
        return -1;
      if (got < 0 && errno != EINTR)
        return 0;
      usleep (5000);
    }
  return 1;
}

static int
run_one (const rf_hook_t *h, const char *where, const char *state, char *const *env, rf_error_t *err)
{
  int sv[2];
  pid_t pid;
  int status = 0, r = 0;

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return rf_error_sys (err, "%s: socketpair", where);
  pid = fork ();
  if (pid < 0)
    {
      close (sv[0]);
      close (sv[1]);
      return rf_error_sys (err, "%s: fork", where);
    }
  if (pid == 0)
    {
      char *argv0[] = { h->path, NULL };
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      if (dup2 (sv[1], STDIN_FILENO) < 0)
        _exit (126);
      execve (h->path, h->args && h->args[0] ? h->args : argv0,
              h->env ? h->env : (env ? (char **) env : environ));
      _exit (127);
    }
  close (sv[1]);
  /* A hook that does not read its stdin must not hang or kill runf. */
  send (sv[0], state, strlen (state), MSG_NOSIGNAL | MSG_DONTWAIT);
  close (sv[0]);

  if (h->timeout > 0)
    r = wait_bounded (pid, h->timeout, &status);
  if (r > 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      return rf_error_make (err, ETIMEDOUT, "%s `%s`: timed out after %d s", where, h->path, h->timeout);
    }
  while (r == 0 && waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return rf_error_sys (err, "%s: wait", where);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
    return rf_error_make (err, ENOENT, "%s `%s`: could not be executed", where, h->path);
  if (WIFSIGNALED (status))
    return rf_error_make (err, ECANCELED, "%s `%s`: killed by signal %d", where, h->path, WTERMSIG (status));
  return rf_error_make (err, ECANCELED, "%s `%s`: exit status %d", where, h->path, WEXITSTATUS (status));
}

int
rf_hooks_run (const rf_hooks_t *h, rf_hook_kind_t kind, const char *state_json, char *const *env,
              rf_error_t *err)
{
  for (size_t i = 0; i < h->n[kind]; i++)
    {
      char where[64];
      snprintf (where, sizeof where, "hooks.%s[%zu]", kind_names[kind], i);
      if (run_one (&h->list[kind][i], where, state_json, env, err) < 0)
        return -1;
    }
  return 0;
}

void
rf_hooks_run_warn (const rf_hooks_t *h, rf_hook_kind_t kind, const char *state_json)
{
  for (size_t i = 0; i < h->n[kind]; i++)
    {
      rf_error_t err = NULL;
      char where[64];
      snprintf (where, sizeof where, "hooks.%s[%zu]", kind_names[kind], i);
      if (run_one (&h->list[kind][i], where, state_json, NULL, &err) < 0)
        {
          cleanup_free char *text = rf_error_text (err);
          rf_warn ("%s", text);
          rf_error_free (&err);
        }
    }
}
