/* runf: an OCI runtime with runc's command line. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/userns_probe.h"
#include "runf.h"
#include "runtime/cgroup_systemd.h"
#include "runtime/state.h"

typedef int (*runf_command_fn) (runf_global_t *, int, char **, rf_error_t *);

static const struct
{
  const char *name;
  runf_command_fn fn;
  const char *summary;
} commands[] = {
  { "spec", runf_cmd_spec, "write a new config.json" },
  { "create", runf_cmd_create, "create a container, waiting for start" },
  { "start", runf_cmd_start, "run the process of a created container" },
  { "run", runf_cmd_run, "create and start a container" },
  { "state", runf_cmd_state, "print the state of a container as JSON" },
  { "kill", runf_cmd_kill, "send a signal to the container's init" },
  { "delete", runf_cmd_delete, "delete a container and everything it holds" },
  { "list", runf_cmd_list, "list containers" },
  { "exec", runf_cmd_exec, "run another process in a container" },
  { "ps", runf_cmd_ps, "list the processes of a container" },
  { "pause", runf_cmd_pause, "freeze every process of a container" },
  { "resume", runf_cmd_resume, "thaw a paused container" },
  { "update", runf_cmd_update, "change the resource limits of a container" },
  { "events", runf_cmd_events, "print a container's stats and OOM events as JSON" },
  { "features", runf_cmd_features, "print the OCI features document as JSON" },
  { "checkpoint", runf_cmd_checkpoint, "save a running container with CRIU" },
  { "restore", runf_cmd_restore, "restore a container from a checkpoint" },
};

enum { G_ROOT = 1, G_LOG, G_LOG_FORMAT, G_DEBUG, G_ROOTLESS, G_SYSTEMD, G_CRIU, G_VERSION, G_HELP };

static const runf_option_t global_options[] = {
  { "root", 0, true, G_ROOT },
  { "log", 0, true, G_LOG },
  { "log-format", 0, true, G_LOG_FORMAT },
  { "debug", 0, false, G_DEBUG },
  { "rootless", 0, true, G_ROOTLESS },
  { "systemd-cgroup", 0, false, G_SYSTEMD },
  { "criu", 0, true, G_CRIU },
  { "version", 'v', false, G_VERSION },
  { "help", 'h', false, G_HELP },
  { 0 },
};

#ifndef RUNF_COMMIT
#define RUNF_COMMIT "unknown"
#endif

/* runc's layout, whose first lines scripts and engines read: name and
   version, the commit, the runtime spec; then the library. */
static void
version (const char *prog)
{
  const struct scmp_version *v = seccomp_version ();
  printf ("%s version %s\ncommit: %s\nspec: %s\nlibseccomp: %u.%u.%u\n", prog, RUNF_VERSION,
          RUNF_COMMIT, RUNF_SPEC_VERSION, v->major, v->minor, v->micro);
}

static int
decide_rootless (const char *mode, bool *out, rf_error_t *err)
{
  if (mode == NULL || strcmp (mode, "auto") == 0)
    {
      /* Not root on the host (plainly, or root of a user namespace as under
         `unshare -r`): cgroups and host paths are not ours to change. */
      *out = rf_rootless_p ();
      return 0;
    }
  if (strcmp (mode, "true") == 0)
    *out = true;
  else if (strcmp (mode, "false") == 0)
    *out = false;
  else
    return rf_error_make (err, 0, "--rootless `%s`: expected auto, true or false", mode);
  return 0;
}

/* The help of `runf COMMAND --help` and `runf help COMMAND`; an unknown
   command has no help topic (runc's words). */
static int
command_help (const char *prog, const char *name, rf_error_t *err)
{
  if (runf_command_usage (stdout, prog, name))
    return 0;
  return rf_error_make (err, 0, "No help topic for '%s'", name);
}

int
main (int argc, char **argv)
{
  runf_global_t g = { 0 };
  const char *prog = strrchr (argv[0], '/') ? strrchr (argv[0], '/') + 1 : argv[0];
  rf_error_t err = NULL;
  const char *log_file = NULL, *log_format = NULL, *rootless = NULL, *value;
  int index = 1, id, ret = 1;

  rf_log_init ("runf");
  while ((id = runf_next_option (argc, argv, &index, global_options, &value, &err)) > 0)
    switch (id)
      {
      case G_ROOT: g.root = xstrdup (value); break;
      case G_LOG: log_file = value; break;
      case G_LOG_FORMAT: log_format = value; break;
      case G_DEBUG: rf_log_set_debug (strcmp (value, "true") == 0); break;
      case G_ROOTLESS: rootless = value; break;
      case G_SYSTEMD: g.systemd_cgroup = strcmp (value, "true") == 0; break;
      case G_CRIU: g.criu = value; break;
      case G_VERSION: version (prog); return 0;
      case G_HELP: runf_usage (stdout, prog); return 0;
      }
  if (id < 0 && err->code == RUNF_HELP_REQUESTED)
    {
      rf_error_free (&err);
      runf_usage (stdout, prog);
      return 0;
    }
  if (id < 0)
    goto fail;
  {
    char *why = NULL;
    if (rf_log_open (log_file, log_format, &why) < 0)
      {
        rf_error_make (&err, 0, "%s", why);
        free (why);
        goto fail;
      }
  }
  if (index >= argc)
    {
      runf_usage (stderr, prog);
      return 1;
    }
  if (decide_rootless (rootless, &g.rootless, &err) < 0)
    goto fail;
  if (g.root == NULL)
    g.root = rf_state_default_root (g.rootless);
  if (g.systemd_cgroup && rf_systemd_booted_p ())
    rf_debug ("--systemd-cgroup: new containers' cgroups are systemd scope units");
  else if (g.systemd_cgroup)
    rf_debug ("--systemd-cgroup: systemd is not running (no /run/systemd/system): cgroups through "
              "cgroupfs, where systemd would put them");
  rf_debug ("state root %s, %s", g.root, g.rootless ? "rootless" : "as root");

  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    if (strcmp (argv[index], commands[i].name) == 0)
      {
        ret = commands[i].fn (&g, argc - index, argv + index, &err);
        if (err && err->code == RUNF_HELP_REQUESTED)
          {
            rf_error_free (&err);
            free (g.root);
            runf_command_usage (stdout, prog, argv[index]);
            return 0;
          }
        if (ret >= 0 && err == NULL)
          {
            free (g.root);
            return ret;
          }
        goto fail;
      }
  if (strcmp (argv[index], "help") == 0 || strcmp (argv[index], "h") == 0)
    {
      if (index + 1 >= argc)
        runf_usage (stdout, prog);
      else if (command_help (prog, argv[index + 1], &err) < 0)
        goto fail;
      free (g.root);
      return 0;
    }
  /* `runf foo -h` is a question about foo: runc answers that there is no
     help topic for it. */
  for (int i = index + 1; i < argc && argv[i][0] == '-'; i++)
    if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
      {
        command_help (prog, argv[index], &err);
        goto fail;
      }
  rf_error_make (&err, 0, "unknown command `%s` (see runf --help)", argv[index]);

fail:
  {
    cleanup_free char *text = rf_error_text (err);
    rf_log (RF_LOG_ERROR, "%s", text);
  }
  rf_error_free (&err);
  free (g.root);
  return ret > 1 ? ret : 1;
}
