#include "create.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "runtime/container.h"

enum
{
  O_BUNDLE = 1,
  O_PID_FILE,
  O_CONSOLE_SOCKET,
  O_NO_PIVOT,
  O_NO_NEW_KEYRING,
  O_PRESERVE_FDS,
  O_DETACH,
  O_KEEP,
  O_NO_SUBREAPER,
};

static const runf_option_t create_options[] = {
  { "bundle", 'b', true, O_BUNDLE },
  { "pid-file", 0, true, O_PID_FILE },
  { "console-socket", 0, true, O_CONSOLE_SOCKET },
  { "no-pivot", 0, false, O_NO_PIVOT },
  { "no-new-keyring", 0, false, O_NO_NEW_KEYRING },
  { "preserve-fds", 0, true, O_PRESERVE_FDS },
  { 0 },
};

static const runf_option_t run_options[] = {
  { "bundle", 'b', true, O_BUNDLE },
  { "pid-file", 0, true, O_PID_FILE },
  { "console-socket", 0, true, O_CONSOLE_SOCKET },
  { "no-pivot", 0, false, O_NO_PIVOT },
  { "no-new-keyring", 0, false, O_NO_NEW_KEYRING },
  { "preserve-fds", 0, true, O_PRESERVE_FDS },
  { "detach", 'd', false, O_DETACH },
  { "keep", 0, false, O_KEEP },
  { "no-subreaper", 0, false, O_NO_SUBREAPER },
  { 0 },
};

void
runf_create_args_clear (runf_create_args_t *a)
{
  rf_spec_free (a->spec);
  free (a->config_path);
  memset (a, 0, sizeof *a);
  rf_create_opts_init (&a->opts);
}

int
runf_parse_create (runf_global_t *g, int argc, char **argv, bool run,
                   runf_create_args_t *a, rf_error_t *err)
{
  const char *value, *listen;
  int index = 1, id, n;

  memset (a, 0, sizeof *a);
  rf_create_opts_init (&a->opts);
  while ((id = runf_next_option (argc, argv, &index, run ? run_options : create_options,
                                 &value, err)) > 0)
    {
      bool on = value && strcmp (value, "true") == 0;
      switch (id)
        {
        case O_BUNDLE: a->opts.bundle = value; break;
        case O_PID_FILE: a->opts.pid_file = value; break;
        case O_CONSOLE_SOCKET: a->opts.console_socket = value; break;
        case O_NO_PIVOT: a->opts.no_pivot = on; break;
        case O_NO_NEW_KEYRING: a->opts.no_new_keyring = on; break;
        case O_PRESERVE_FDS:
          if (runf_parse_int ("--preserve-fds", value, 0, 65536, &n, err) < 0)
            return -1;
          a->opts.preserve_fds = n;
          break;
        case O_DETACH: a->detach = on; break;
        case O_KEEP: a->keep = on; break;
        default: break;
        }
    }
  if (id < 0)
    return -1;
  if (index >= argc)
    return rf_error_make (err, 0, "%s: missing container id", argv[0]);
  if (index + 1 < argc)
    return rf_error_make (err, 0, "%s: unexpected argument `%s`", argv[0], argv[index + 1]);
  a->opts.id = argv[index];
  if (rf_id_check (a->opts.id, err) < 0)
    return -1;
  a->opts.state_root = g->root;
  a->opts.rootless = g->rootless;
  a->opts.systemd_cgroup = g->systemd_cgroup;

  /* Socket activation: fds handed to runf by its caller go on into the
     container ahead of the --preserve-fds ones, as runc does. */
  listen = getenv ("LISTEN_FDS");
  if (listen && *listen)
    {
      if (runf_parse_int ("LISTEN_FDS", listen, 0, 65536, &n, err) < 0)
        return -1;
      a->opts.listen_fds = n;
      a->opts.preserve_fds += n;
    }

  a->config_path = xasprintf ("%s/config.json", a->opts.bundle ? a->opts.bundle : ".");
  a->spec = rf_spec_load_file (a->config_path, err);
  if (a->spec == NULL)
    return -1;
  if (a->spec->process.terminal && a->opts.console_socket == NULL && (!run || a->detach))
    return rf_error_make (err, 0,
                          "process.terminal: a detached container needs --console-socket");
  /* As runc: a console socket that would get no terminal is a mistake of
     the caller's, better said than ignored. */
  if (a->opts.console_socket && !a->spec->process.terminal)
    return rf_error_make (err, 0, "--console-socket: process.terminal is false, there is no terminal to send");
  if (a->opts.console_socket && run && !a->detach)
    return rf_error_make (err, 0, "--console-socket: run without --detach relays the terminal itself");
  return 0;
}

int
runf_cmd_create (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  runf_create_args_t a;
  rf_container_t *c = NULL;
  int ret;

  ret = runf_parse_create (g, argc, argv, false, &a, err);
  if (ret == 0)
    ret = rf_container_create (&a.opts, a.spec, &c, err);
  rf_container_free (c);
  runf_create_args_clear (&a);
  return ret;
}
