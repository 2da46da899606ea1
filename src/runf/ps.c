/* `runf ps`: the container's processes.  `-f json` prints their host pids;
 * the table is ps(1) run with the given options (default -ef), filtered to
 * the container's pids by its PID column, as runc does. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runf.h"
#include "runtime/container.h"

enum { O_FORMAT = 1 };

static const runf_option_t options[] = {
  { "format", 'f', true, O_FORMAT },
  { 0 },
};

/* All of ps's output; its stderr stays runf's. */
static int
run_ps (char **ps_args, char **out, rf_error_t *err)
{
  size_t n = strv_len (ps_args), len = 0, cap = 0;
  cleanup_free char **argv = xzalloc ((n + 3) * sizeof (char *));
  cleanup_free char *buf = NULL;
  int pipefd[2], status;
  pid_t child;

  argv[0] = (char *) "ps";
  if (n == 0)
    argv[1] = (char *) "-ef";
  for (size_t i = 0; i < n; i++)
    argv[i + 1] = ps_args[i];
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return rf_error_sys (err, "pipe");
  child = fork ();
  if (child < 0)
    {
      close (pipefd[0]);
      close (pipefd[1]);
      return rf_error_sys (err, "fork ps");
    }
  if (child == 0)
    {
      if (dup2 (pipefd[1], STDOUT_FILENO) < 0)
        _exit (127);
      execvp ("ps", argv);
      dprintf (STDERR_FILENO, "runf: ps: %s\n", strerror (errno));
      _exit (127);
    }
  close (pipefd[1]);
  for (;;)
    {
      ssize_t got;
      if (len + 4096 + 1 > cap)
        {
          cap = cap ? cap * 2 : 16384;
          buf = xrealloc (buf, cap);
        }
      got = read (pipefd[0], buf + len, cap - len - 1);
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        break;
      len += got;
    }
  close (pipefd[0]);
  while (waitpid (child, &status, 0) < 0)
    if (errno != EINTR)
      return rf_error_sys (err, "wait for ps");
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return rf_error_make (err, 0, "ps failed (exit status %d)",
                          WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
  buf[len] = '\0';
  *out = steal_pointer (&buf);
  return 0;
}

/* The field of `line` at column `index` (whitespace separated), as a pid. */
static long
field_pid (const char *line, int index)
{
  const char *p = line;
  for (int i = 0;; i++)
    {
      size_t len;
      p += strspn (p, " \t");
      if (*p == '\0')
        return -1;
      len = strcspn (p, " \t");
      if (i == index)
        {
          char num[24];
          char *end;
          long v;
          if (len >= sizeof num)
            return -1;
          memcpy (num, p, len);
          num[len] = '\0';
          v = strtol (num, &end, 10);
          return *end == '\0' && len > 0 ? v : -1;
        }
      p += len;
    }
}

static int
pid_index (const char *header)
{
  const char *p = header;
  for (int i = 0;; i++)
    {
      size_t len;
      p += strspn (p, " \t");
      if (*p == '\0')
        return -1;
      len = strcspn (p, " \t");
      if (len == 3 && strncmp (p, "PID", 3) == 0)
        return i;
      p += len;
    }
}

static int
print_table (char **ps_args, const pid_t *pids, size_t n, rf_error_t *err)
{
  cleanup_free char *text = NULL;
  char *line, *save = NULL;
  int index;

  if (run_ps (ps_args, &text, err) < 0)
    return -1;
  line = strtok_r (text, "\n", &save);
  if (line == NULL || (index = pid_index (line)) < 0)
    return rf_error_make (err, 0, "ps: no PID column in its output (the options must keep it)");
  puts (line);
  while ((line = strtok_r (NULL, "\n", &save)) != NULL)
    {
      long pid = field_pid (line, index);
      for (size_t i = 0; i < n; i++)
        if (pids[i] == pid)
          {
            puts (line);
            break;
          }
    }
  return 0;
}

int
runf_cmd_ps (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  const char *value, *format = "table";
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  int index = 1, id;

  while ((id = runf_next_option (argc, argv, &index, options, &value, err)) > 0)
    format = value;
  if (id < 0)
    return -1;
  if (strcmp (format, "table") != 0 && strcmp (format, "json") != 0)
    return rf_error_make (err, 0, "ps: --format `%s`: expected table or json", format);
  if (index >= argc)
    return rf_error_make (err, 0, "ps: missing container id");
  if (rf_container_pids (g->root, argv[index], &pids, &n, err) < 0)
    return -1;
  if (strcmp (format, "json") == 0)
    {
      putchar ('[');
      for (size_t i = 0; i < n; i++)
        printf ("%s%d", i ? "," : "", (int) pids[i]);
      puts ("]");
      return 0;
    }
  return print_table (argv + index + 1, pids, n, err);
}
