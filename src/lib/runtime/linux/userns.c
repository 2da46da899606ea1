#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"

static char *
format_map (const rf_idmap_t *maps, size_t n)
{
  char *text = xstrdup ("");
  for (size_t i = 0; i < n; i++)
    {
      char *next = xasprintf ("%s%u %u %u\n", text, maps[i].container_id,
                              maps[i].host_id, maps[i].size);
      free (text);
      text = next;
    }
  return text;
}

/* newuidmap PID ID HOSTID SIZE ... */
static int
run_helper (const char *helper, pid_t pid, const rf_idmap_t *maps, size_t n, rf_error_t *err)
{
  char **argv = xzalloc ((3 + 3 * n) * sizeof (char *));
  size_t a = 0;
  pid_t child;
  int status, errpipe[2];
  char why[256] = "";
  ssize_t got;

  argv[a++] = xstrdup (helper);
  argv[a++] = xasprintf ("%d", (int) pid);
  for (size_t i = 0; i < n; i++)
    {
      argv[a++] = xasprintf ("%u", maps[i].container_id);
      argv[a++] = xasprintf ("%u", maps[i].host_id);
      argv[a++] = xasprintf ("%u", maps[i].size);
    }
  if (pipe2 (errpipe, O_CLOEXEC) < 0)
    {
      strv_free (argv);
      return rf_error_sys (err, "pipe");
    }
  child = fork ();
  if (child < 0)
    {
      strv_free (argv);
      close (errpipe[0]);
      close (errpipe[1]);
      return rf_error_sys (err, "fork %s", helper);
    }
  if (child == 0)
    {
      /* Its complaint becomes part of runf's one error line. */
      dup2 (errpipe[1], STDERR_FILENO);
      execvp (helper, argv);
      _exit (127);
    }
  strv_free (argv);
  close (errpipe[1]);
  got = rf_read_all (errpipe[0], why, sizeof why - 1);
  close (errpipe[0]);
  why[got > 0 ? got : 0] = '\0';
  why[strcspn (why, "\n")] = '\0';
  while (waitpid (child, &status, 0) < 0)
    if (errno != EINTR)
      return rf_error_sys (err, "wait for %s", helper);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
    return rf_error_make (err, ENOENT, "%s: not installed (Debian package uidmap)", helper);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return rf_error_make (err, EPERM, "%s failed (%s): check /etc/sub%cid for this user", helper,
                          *why ? why : "no reason given", helper[3] == 'u' ? 'u' : 'g');
  return 0;
}

static int
write_map (pid_t pid, const char *file, const char *helper, const rf_idmap_t *maps,
           size_t n, rf_error_t *err)
{
  cleanup_free char *text = format_map (maps, n);
  cleanup_free char *path = xasprintf ("/proc/%d/%s", (int) pid, file);
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);

  if (fd < 0)
    return rf_error_sys (err, "open `%s`", path);
  if (write (fd, text, strlen (text)) >= 0)
    return 0;
  /* The kernel lets an unprivileged parent write only the one range that
     maps its own id; anything more goes through the setuid helper. */
  if (errno == EPERM && (n > 1 || geteuid () != 0))
    {
      rf_debug ("%s: not permitted directly, using %s", file, helper);
      return run_helper (helper, pid, maps, n, err);
    }
  return rf_error_sys (err, "write `%s` (%.*s)", path, (int) strcspn (text, "\n"), text);
}

int
rf_userns_write_maps (pid_t pid, const rf_spec_t *spec, rf_error_t *err)
{
  cleanup_free char *setgroups = xasprintf ("/proc/%d/setgroups", (int) pid);
  bool single_own_gid = spec->n_gid_mappings == 1 && spec->gid_mappings[0].size == 1
                        && spec->gid_mappings[0].host_id == getegid ();

  if (write_map (pid, "uid_map", "newuidmap", spec->uid_mappings, spec->n_uid_mappings, err) < 0)
    return rf_error_wrap (err, "linux.uidMappings");
  /* Without CAP_SETGID over the parent namespace, the kernel only accepts
     a gid map after setgroups is denied (so dropping groups cannot be used
     to gain access).  As root, leave setgroups allowed. */
  if (single_own_gid && geteuid () != 0)
    {
      int fd = open (setgroups, O_WRONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          if (write (fd, "deny", 4) < 0)
            {
              close (fd);
              return rf_error_sys (err, "write `%s`", setgroups);
            }
          close (fd);
        }
    }
  if (write_map (pid, "gid_map", "newgidmap", spec->gid_mappings, spec->n_gid_mappings, err) < 0)
    return rf_error_wrap (err, "linux.gidMappings");
  return 0;
}

