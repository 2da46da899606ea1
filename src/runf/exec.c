/* `runf exec`: run another process in a container, with runc's flags and
 * exit codes: the process's status in the foreground (128+N when signal N
 * killed it), 255 when the exec itself failed. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "common/cleanup.h"
#include "runf.h"
#include "runtime/exec.h"
#include "common/syscalls.h"
#include "runtime/console.h"
#include "supervise.h"

enum
{
  O_CONSOLE_SOCKET = 1,
  O_CWD,
  O_ENV,
  O_TTY,
  O_USER,
  O_ADDITIONAL_GIDS,
  O_PROCESS,
  O_DETACH,
  O_PID_FILE,
  O_PROCESS_LABEL,
  O_APPARMOR,
  O_NO_NEW_PRIVS,
  O_CAP,
  O_PRESERVE_FDS,
  O_IGNORE_PAUSED,
};

static const runf_option_t options[] = {
  { "console-socket", 0, true, O_CONSOLE_SOCKET },
  { "cwd", 0, true, O_CWD },
  { "env", 'e', true, O_ENV },
  { "tty", 't', false, O_TTY },
  { "user", 'u', true, O_USER },
  { "additional-gids", 'g', true, O_ADDITIONAL_GIDS },
  { "process", 'p', true, O_PROCESS },
  { "detach", 'd', false, O_DETACH },
  { "pid-file", 0, true, O_PID_FILE },
  { "process-label", 0, true, O_PROCESS_LABEL },
  { "apparmor", 0, true, O_APPARMOR },
  { "no-new-privs", 0, false, O_NO_NEW_PRIVS },
  { "cap", 'c', true, O_CAP },
  { "preserve-fds", 0, true, O_PRESERVE_FDS },
  { "ignore-paused", 0, false, O_IGNORE_PAUSED },
  { 0 },
};

/* runc's exit status when the exec itself fails. */
#define EXEC_FAILED 255

typedef struct
{
  rf_exec_overrides_t o;
  rf_exec_opts_t opts;
  const char *process_file;
  const char *apparmor_profile; /* --apparmor, over the process's */
  const char *selinux_label;    /* --process-label, likewise */
  bool detach;
} exec_args_t;

static void
append (char ***v, const char *s)
{
  size_t n = strv_len (*v);
  *v = xrealloc (*v, (n + 2) * sizeof (char *));
  (*v)[n] = (char *) s;
  (*v)[n + 1] = NULL;
}

static void
exec_args_clear (exec_args_t *a)
{
  /* The strings are argv's; only the arrays are ours. */
  free (a->o.env);
  free (a->o.caps);
  free (a->o.additional_gids);
}

static int
parse_args (runf_global_t *g, int argc, char **argv, exec_args_t *a, rf_error_t *err)
{
  const char *value;
  int index = 1, id, n;

  memset (a, 0, sizeof *a);
  a->o.no_new_privs = -1;
  while ((id = runf_next_option (argc, argv, &index, options, &value, err)) > 0)
    {
      bool on = value && strcmp (value, "true") == 0;
      switch (id)
        {
        case O_CONSOLE_SOCKET: a->opts.console_socket = value; break;
        case O_CWD: a->o.cwd = value; break;
        case O_ENV: append (&a->o.env, value); break;
        case O_TTY: a->o.tty = on; break;
        case O_USER: a->o.user = value; break;
        case O_ADDITIONAL_GIDS: append (&a->o.additional_gids, value); break;
        case O_PROCESS: a->process_file = value; break;
        case O_DETACH: a->detach = on; break;
        case O_PID_FILE: a->opts.pid_file = value; break;
        case O_NO_NEW_PRIVS: a->o.no_new_privs = on; break;
        case O_CAP: append (&a->o.caps, value); break;
        case O_IGNORE_PAUSED: a->opts.ignore_paused = on; break;
        case O_PROCESS_LABEL:
          if (*value && !rf_selinux_enabled_p ())
            return rf_error_make (err, 0, "--process-label `%s`: SELinux is not enabled on this host", value);
          a->selinux_label = *value ? value : NULL;
          break;
        case O_APPARMOR:
          if (*value && !rf_apparmor_enabled_p ())
            return rf_error_make (err, 0, "--apparmor `%s`: AppArmor is not enabled on this host", value);
          a->apparmor_profile = *value ? value : NULL;
          break;
        case O_PRESERVE_FDS:
          if (runf_parse_int ("--preserve-fds", value, 0, 65536, &n, err) < 0)
            return -1;
          a->opts.preserve_fds = n;
          break;
        default: break;
        }
    }
  if (id < 0)
    return -1;
  if (index >= argc)
    return rf_error_make (err, 0, "exec: missing container id");
  a->opts.id = argv[index];
  a->opts.state_root = g->root;
  a->o.args = argv + index + 1;
  return 0;
}

static int
run_exec (exec_args_t *a, rf_process_t *process, rf_error_t *err)
{
  cleanup_close int sfd = -1;
  rf_exec_proc_t proc;
  int ret;

  if (process->terminal && a->detach && a->opts.console_socket == NULL)
    return rf_error_make (err, 0, "a detached exec with a terminal needs --console-socket");
  if (a->opts.console_socket && !process->terminal)
    return rf_error_make (err, 0, "--console-socket: the process gets no terminal (no -t)");
  if (a->opts.console_socket && !a->detach)
    return rf_error_make (err, 0, "--console-socket: exec without --detach relays the terminal itself");
  a->opts.process = process;
  if (!a->detach && (sfd = runf_signals_block (err)) < 0)
    return -1;
  if (rf_exec (&a->opts, &proc, err) < 0)
    return -1;
  if (a->detach)
    {
      rf_exec_proc_clear (&proc);
      return 0;
    }
  if (proc.pty_master >= 0 && rf_terminal_relay_open (proc.pty_master, err) < 0)
    {
      if (proc.pidfd >= 0)
        rf_pidfd_send_signal (proc.pidfd, SIGKILL);
      else
        kill (proc.pid, SIGKILL);
      rf_exec_proc_clear (&proc);
      return -1;
    }
  ret = runf_supervise (proc.pid, proc.pidfd, proc.pty_master, sfd, err);
  rf_terminal_restore ();
  rf_exec_proc_clear (&proc);
  return ret;
}

int
runf_cmd_exec (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  exec_args_t a;
  rf_process_t process;
  rf_spec_t *spec = NULL;
  int ret = -1;

  memset (&process, 0, sizeof process);
  if (parse_args (g, argc, argv, &a, err) < 0)
    {
      exec_args_clear (&a);
      return -1;
    }
  spec = rf_exec_container_spec (g->root, a.opts.id, err);
  if (spec)
    ret = a.process_file ? rf_exec_process_from_file (a.process_file, &process, err)
                         : rf_exec_process_from_spec (spec, a.opts.id, &a.o, &process, err);
  if (ret == 0 && a.apparmor_profile)
    {
      free (process.apparmor_profile);
      process.apparmor_profile = xstrdup (a.apparmor_profile);
    }
  if (ret == 0 && a.selinux_label)
    {
      free (process.selinux_label);
      process.selinux_label = xstrdup (a.selinux_label);
    }
  if (ret == 0)
    {
      a.opts.spec = spec;
      ret = run_exec (&a, &process, err);
    }
  rf_process_free (&process);
  rf_spec_free (spec);
  exec_args_clear (&a);
  if (ret < 0)
    {
      rf_error_wrap (err, "exec failed");
      return EXEC_FAILED;
    }
  return ret;
}
