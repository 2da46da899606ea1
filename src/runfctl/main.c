/* runfctl: images (and, later, functions) from the command line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "image/fsops.h"
#include "runfctl.h"

static const runfctl_command_t commands[] = {
  { "image", runfctl_cmd_image, "image COMMAND ...", "pull, import, list, unpack and remove images" },
  { "fn", runfctl_cmd_fn, "fn COMMAND ...", "deploy, list, call and remove functions (through runfd)" },
};

static void
usage (FILE *out)
{
  fprintf (out, "usage: runfctl [--store DIR] COMMAND ...\n\nCommands:\n");
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nGlobal flags:\n"
                "  --store DIR   the image store (/var/lib/runf; rootless: $XDG_DATA_HOME/runf)\n"
                "  --debug       debug output\n"
                "  --version, --help\n"
                "\nrunfctl COMMAND --help describes a command.\n");
}

void
runfctl_note (const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  fprintf (stderr, "runfctl: note: %s\n", msg);
}

int
runfctl_dispatch (runfctl_t *g, const char *group, const runfctl_command_t *cmds, size_t n,
                  int argc, char **argv, rf_error_t *err)
{
  if (argc < 1 || strcmp (argv[0], "--help") == 0 || strcmp (argv[0], "-h") == 0
      || strcmp (argv[0], "help") == 0)
    {
      FILE *out = argc < 1 ? stderr : stdout;
      fprintf (out, "usage: runfctl %s COMMAND ...\n\nCommands:\n", group);
      for (size_t i = 0; i < n; i++)
        fprintf (out, "  %-44s %s\n", cmds[i].usage, cmds[i].summary);
      if (argc < 1)
        return rf_error_make (err, 0, "%s: missing command (see runfctl %s --help)", group,
                              group);
      return 0;
    }
  for (size_t i = 0; i < n; i++)
    if (strcmp (argv[0], cmds[i].name) == 0)
      {
        if (argc > 1 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
          {
            printf ("usage: runfctl %s %s\n%s\n", group, cmds[i].usage, cmds[i].summary);
            return 0;
          }
        optind = 0; /* getopt starts afresh for the command's own options */
        return cmds[i].fn (g, argc, argv, err);
      }
  {
    cleanup_free char *shown = xstrndup (argv[0], 60);
    for (char *p = shown; *p; p++)
      if ((unsigned char) *p < 0x20)
        *p = '?';
    return rf_error_make (err, 0, "%s: unknown command `%s` (see runfctl %s --help)", group,
                          shown, group);
  }
}

int
runfctl_getopt (runfctl_t *g, int argc, char **argv, const char *cmd, const char *shortopts,
                const struct option *longopts, rf_error_t *err)
{
  cleanup_free char *spec = xasprintf (":%s", shortopts);
  int c;

  opterr = 0;
  for (;;)
    {
      c = getopt_long (argc, argv, spec, longopts, NULL);
      if (c == RUNFCTL_OPT_STORE)
        {
          free (g->store);
          g->store = xstrdup (optarg);
          continue;
        }
      if (c == ':')
        {
          const char *arg = argv[optind - 1 < argc ? optind - 1 : argc - 1];
          if (optopt && !(arg[0] == '-' && arg[1] == '-'))
            return rf_error_make (err, 0, "%s: -%c needs a value", cmd, optopt), '?';
          return rf_error_make (err, 0, "%s: %.60s needs a value", cmd, arg), '?';
        }
      if (c == '?')
        {
          const char *arg = argv[optind - 1 < argc ? optind - 1 : argc - 1];
          if (optopt && !(arg[0] == '-' && arg[1] == '-'))
            return rf_error_make (err, 0, "%s: unknown option `-%c`", cmd, optopt), '?';
          return rf_error_make (err, 0, "%s: unknown option `%.60s`", cmd, arg), '?';
        }
      return c;
    }
}

int
runfctl_positional (int argc, char **argv, int n, const char *cmd, const char *names,
                    rf_error_t *err)
{
  if (argc - optind < n)
    return rf_error_make (err, 0, "%s: missing %s", cmd, names);
  if (argc - optind > n)
    return rf_error_make (err, 0, "%s: unexpected argument `%.60s`", cmd, argv[optind + n]);
  return 0;
}

int
runfctl_open_store (runfctl_t *g, rf_store_mode_t mode, rf_store_t **s, rf_error_t *err)
{
  if (g->store == NULL)
    g->store = rf_store_default_root (g->rootless);
  return rf_store_open (g->store, mode, g->rootless, s, err);
}

int
main (int argc, char **argv)
{
  static const struct option options[] = {
    { "store", required_argument, NULL, 's' },
    { "debug", no_argument, NULL, 'd' },
    { "version", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { 0 },
  };
  runfctl_t g = { 0 };
  rf_error_t err = NULL;
  int c, ret = 1;

  rf_log_init ("runfctl");
  g.rootless = rf_rootless_p ();
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+:hv", options, NULL)) != -1)
    switch (c)
      {
      case 's': free (g.store); g.store = xstrdup (optarg); break;
      case 'd': rf_log_set_debug (true); break;
      case 'v': printf ("runfctl version %s\n", RUNFCTL_VERSION); return 0;
      case 'h': usage (stdout); return 0;
      case ':':
        rf_error_make (&err, 0, "%s needs a value", argv[optind - 1]);
        goto fail;
      default:
        rf_error_make (&err, 0, "unknown option `%.60s` (see runfctl --help)", argv[optind - 1]);
        goto fail;
      }
  if (optind >= argc)
    {
      usage (stderr);
      return 1;
    }
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    if (strcmp (argv[optind], commands[i].name) == 0)
      {
        ret = commands[i].fn (&g, argc - optind - 1, argv + optind + 1, &err);
        if (ret >= 0 && err == NULL)
          {
            free (g.store);
            return ret;
          }
        goto fail;
      }
  if (strcmp (argv[optind], "help") == 0)
    {
      usage (stdout);
      return 0;
    }
  rf_error_make (&err, 0, "unknown command `%.60s` (see runfctl --help)", argv[optind]);

fail:
  {
    cleanup_free char *text = rf_error_text (err);
    rf_log (RF_LOG_ERROR, "%s", text);
  }
  rf_error_free (&err);
  free (g.store);
  return ret > 1 ? ret : 1;
}
