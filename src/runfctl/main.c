/* runfctl: images and functions from the command line. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/userns_probe.h"
#include "runfctl.h"

static const runfctl_group_t *const groups[] = {
  &runfctl_image_group,
  &runfctl_fn_group,
  &runfctl_secret_group,
  &runfctl_stack_group,
};

/* The global flags, before the group's name. */
static const runfctl_option_t global_options[] = {
  RUNFCTL_STORE_OPTION,
  { "debug", 'd', no_argument, NULL, "debug output on stderr" },
  { "version", 'v', no_argument, NULL, "print runfctl's version" },
  { "help", 'h', no_argument, NULL, "this help; runfctl GROUP COMMAND --help describes a command" },
  RUNFCTL_OPTIONS_END,
};

#define HELP_COLUMN 30
#define HELP_WIDTH 79

/* Text from column `indent` on, words wrapped at HELP_WIDTH. */
static void
print_wrapped (FILE *out, const char *text, int column, int indent)
{
  const char *p = text;
  while (*p)
    {
      size_t word = strcspn (p, " ");
      if (column > indent && column + 1 + (int) word > HELP_WIDTH)
        {
          fprintf (out, "\n%*s", indent, "");
          column = indent;
        }
      else if (column > indent)
        {
          fputc (' ', out);
          column++;
        }
      fprintf (out, "%.*s", (int) word, p);
      column += (int) word;
      p += word;
      while (*p == ' ')
        p++;
    }
  fputc ('\n', out);
}

static void
print_options (FILE *out, const runfctl_option_t *options)
{
  for (const runfctl_option_t *o = options; o->name; o++)
    {
      char head[128];
      int n;
      bool letter = o->val > 0 && o->val < 0x80 && isalpha (o->val);
      /* Without a short option the long one starts at the same column. */
      if (letter)
        n = snprintf (head, sizeof head, "  -%c, --%s", o->val, o->name);
      else
        n = snprintf (head, sizeof head, "      --%s", o->name);
      if (o->arg && o->has_arg == optional_argument)
        snprintf (head + n, sizeof head - (size_t) n, "[=%s]", o->arg);
      else if (o->arg)
        snprintf (head + n, sizeof head - (size_t) n, " %s", o->arg);
      fputs (head, out);
      if ((int) strlen (head) + 2 > HELP_COLUMN)
        fprintf (out, "\n%*s", HELP_COLUMN, "");
      else
        fprintf (out, "%*s", HELP_COLUMN - (int) strlen (head), "");
      print_wrapped (out, o->help, HELP_COLUMN, HELP_COLUMN);
    }
}

static void
usage (FILE *out)
{
  fprintf (out, "usage: runfctl [global options] GROUP COMMAND [options] ...\n\nCommands:\n");
  for (size_t i = 0; i < ARRAY_SIZE (groups); i++)
    fprintf (out, "  %-10s %s\n", groups[i]->name, groups[i]->summary);
  fprintf (out, "  %-10s %s\n  %-10s %s\n", "deploy", "runfctl stack deploy -f FILE, as faas-cli deploy -f",
           "rm", "runfctl stack rm -f FILE, as faas-cli rm -f");
  fprintf (out, "\nGlobal options:\n");
  print_options (out, global_options);
  fprintf (out, "\nrunfctl GROUP --help lists a group's commands.\n");
}

void
runfctl_command_help (FILE *out, const char *group, const runfctl_command_t *cmd)
{
  fprintf (out, "usage: runfctl %s %s%s%s%s\n\n", group, cmd->name,
           cmd->options && cmd->options[0].name ? " [options]" : "", *cmd->args ? " " : "",
           cmd->args);
  print_wrapped (out, cmd->summary, 0, 0);
  if (cmd->details)
    {
      fputc ('\n', out);
      fputs (cmd->details, out);
    }
  static const runfctl_option_t help[] = {
    { "help", 0, no_argument, NULL, "this help" },
    RUNFCTL_OPTIONS_END,
  };
  fprintf (out, "\nOptions:\n");
  if (cmd->options)
    print_options (out, cmd->options);
  print_options (out, help);
}

static void
group_help (FILE *out, const runfctl_group_t *group)
{
  fprintf (out, "usage: runfctl %s COMMAND [options] ...\n\nCommands:\n", group->name);
  for (size_t i = 0; i < group->n; i++)
    fprintf (out, "  %-10s %s\n", group->commands[i].name, group->commands[i].summary);
  fprintf (out, "\nrunfctl %s COMMAND --help describes a command and its options.\n", group->name);
}

void
runfctl_note (const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  va_start (ap, fmt);
  msg = xvasprintf (fmt, ap);
  va_end (ap);
  fprintf (stderr, "runfctl: note: %s\n", msg);
}

/* --help anywhere among the options (a value that happens to be "--help"
   is rare enough; `--` ends the search). */
static bool
wants_help (int argc, char **argv)
{
  if (argc > 1 && strcmp (argv[1], "-h") == 0)
    return true;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--") == 0)
        return false;
      if (strcmp (argv[i], "--help") == 0)
        return true;
    }
  return false;
}

int
runfctl_dispatch (runfctl_t *g, const runfctl_group_t *group, int argc, char **argv,
                  rf_error_t *err)
{
  if (argc < 1 || strcmp (argv[0], "--help") == 0 || strcmp (argv[0], "-h") == 0
      || strcmp (argv[0], "help") == 0)
    {
      group_help (argc < 1 ? stderr : stdout, group);
      if (argc < 1)
        return rf_error_make (err, 0, "%s: missing command (see runfctl %s --help)", group->name,
                              group->name);
      return 0;
    }
  for (size_t i = 0; i < group->n; i++)
    if (strcmp (argv[0], group->commands[i].name) == 0)
      {
        if (wants_help (argc, argv))
          {
            runfctl_command_help (stdout, group->name, &group->commands[i]);
            return 0;
          }
        optind = 0; /* getopt starts afresh for the command's own options */
        return group->commands[i].fn (g, argc, argv, err);
      }
  {
    cleanup_free char *shown = xstrndup (argv[0], 60);
    for (char *p = shown; *p; p++)
      if ((unsigned char) *p < 0x20)
        *p = '?';
    return rf_error_make (err, 0, "%s: unknown command `%s` (see runfctl %s --help)", group->name,
                          shown, group->name);
  }
}

/* getopt_long's tables, made from a command's once and kept. */
typedef struct
{
  const runfctl_option_t *from;
  struct option *longopts;
  char *shortopts;
} getopt_tables_t;

static const getopt_tables_t *
tables_for (const runfctl_option_t *options)
{
  static getopt_tables_t cache[8];
  static size_t used;
  size_t n = 0, k = 0;
  getopt_tables_t *t;
  char *s;

  for (size_t i = 0; i < used; i++)
    if (cache[i].from == options)
      return &cache[i];
  if (used == ARRAY_SIZE (cache))
    {
      free (cache[0].longopts);
      free (cache[0].shortopts);
      memmove (&cache[0], &cache[1], (used - 1) * sizeof cache[0]);
      used--;
    }
  t = &cache[used++];
  while (options[n].name)
    n++;
  t->from = options;
  t->longopts = xzalloc ((n + 1) * sizeof *t->longopts);
  s = t->shortopts = xzalloc (3 * n + 2);
  *s++ = ':'; /* a missing value is ':', not '?' */
  for (size_t i = 0; i < n; i++)
    {
      const runfctl_option_t *o = &options[i];
      t->longopts[k++] = (struct option) { o->name, o->has_arg, NULL, o->val };
      if (o->val > 0 && o->val < 0x80 && isalpha (o->val))
        {
          *s++ = (char) o->val;
          if (o->has_arg == required_argument)
            *s++ = ':';
          else if (o->has_arg == optional_argument)
            *s++ = ':', *s++ = ':';
        }
    }
  return t;
}

int
runfctl_getopt (runfctl_t *g, int argc, char **argv, const char *cmd,
                const runfctl_option_t *options, rf_error_t *err)
{
  const getopt_tables_t *t = tables_for (options);
  int c;

  opterr = 0;
  for (;;)
    {
      c = getopt_long (argc, argv, t->shortopts, t->longopts, NULL);
      if (c == RUNFCTL_OPT_STORE)
        {
          free (g->store);
          g->store = xstrdup (optarg);
          continue;
        }
      if (c == ':')
        {
          const char *arg = argv[optind - 1 < argc ? optind - 1 : argc - 1];
          if (optopt > 0 && optopt < 0x80 && !(arg[0] == '-' && arg[1] == '-'))
            return rf_error_make (err, 0, "%s: -%c needs a value", cmd, optopt), '?';
          return rf_error_make (err, 0, "%s: %.60s needs a value", cmd, arg), '?';
        }
      if (c == '?')
        {
          const char *arg = argv[optind - 1 < argc ? optind - 1 : argc - 1];
          if (optopt > 0 && optopt < 0x80 && !(arg[0] == '-' && arg[1] == '-'))
            return rf_error_make (err, 0, "%s: unknown option `-%c` (see --help)", cmd, optopt), '?';
          if (optopt)
            return rf_error_make (err, 0, "%s: `%.60s` takes no value", cmd, arg), '?';
          return rf_error_make (err, 0, "%s: unknown option `%.60s` (see --help)", cmd, arg), '?';
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
runfctl_parse_bool (const char *cmd, const char *flag, const char *value, bool *out,
                    rf_error_t *err)
{
  if (value == NULL || strcmp (value, "true") == 0)
    *out = true;
  else if (strcmp (value, "false") == 0)
    *out = false;
  else
    return rf_error_make (err, 0, "%s: --%s `%.40s`: expected true or false", cmd, flag, value);
  return 0;
}

int
runfctl_open_store (runfctl_t *g, rf_store_mode_t mode, rf_store_t **s, rf_error_t *err)
{
  if (g->store == NULL)
    g->store = rf_store_default_root (g->rootless);
  return rf_store_open (g->store, mode, g->rootless, s, err);
}

/* `runfctl __options`: every command and option, one line each, for the
   bash completion and the tests ("image pull --platform=", "=" when the
   option takes a value). */
static void
dump_options (void)
{
  for (const runfctl_option_t *o = global_options; o->name; o++)
    printf ("- - --%s%s\n", o->name, o->has_arg != no_argument ? "=" : "");
  for (size_t i = 0; i < ARRAY_SIZE (groups); i++)
    for (size_t k = 0; k < groups[i]->n; k++)
      {
        const runfctl_command_t *c = &groups[i]->commands[k];
        printf ("%s %s -\n", groups[i]->name, c->name);
        for (const runfctl_option_t *o = c->options; o && o->name; o++)
          {
            printf ("%s %s --%s%s\n", groups[i]->name, c->name, o->name,
                    o->has_arg != no_argument ? "=" : "");
            if (o->val > 0 && o->val < 0x80 && isalpha (o->val))
              printf ("%s %s -%c\n", groups[i]->name, c->name, o->val);
          }
      }
}

/* Text for roff: a leading dot or quote would be a request, a backslash
   an escape, and "-" in an option's name must stay a hyphen-minus. */
static void
roff_text (const char *s, bool option)
{
  if (*s == '.' || *s == '\'')
    fputs ("\\&", stdout);
  for (; *s; s++)
    if (*s == '\\')
      fputs ("\\e", stdout);
    else if (*s == '-' && option)
      fputs ("\\-", stdout);
    else
      putchar (*s);
}

static void
man_options (const runfctl_option_t *options)
{
  for (const runfctl_option_t *o = options; o && o->name; o++)
    {
      bool letter = o->val > 0 && o->val < 0x80 && isalpha (o->val);
      printf (".TP\n\\fB");
      if (letter)
        printf ("\\-%c\\fR, \\fB", o->val);
      fputs ("\\-\\-", stdout);
      roff_text (o->name, true);
      fputs ("\\fR", stdout);
      if (o->arg)
        {
          fputs (o->has_arg == optional_argument ? "[=\\fI" : " \\fI", stdout);
          roff_text (o->arg, false);
          fputs (o->has_arg == optional_argument ? "\\fR]" : "\\fR", stdout);
        }
      putchar ('\n');
      roff_text (o->help, false);
      putchar ('\n');
    }
}

/* `runfctl __man`: the COMMANDS section of runfctl(1), from the tables
   (the build puts it into man/runfctl.1.in). */
static void
dump_man (void)
{
  printf (".SH COMMANDS\n");
  for (size_t i = 0; i < ARRAY_SIZE (groups); i++)
    for (size_t k = 0; k < groups[i]->n; k++)
      {
        const runfctl_command_t *c = &groups[i]->commands[k];
        printf (".SS \"runfctl %s %s%s%s", groups[i]->name, c->name,
                c->options && c->options[0].name ? " [options]" : "", *c->args ? " " : "");
        roff_text (c->args, true);
        printf ("\"\n");
        printf (".PP\n");
        roff_text (c->summary, false);
        printf (".\n");
        man_options (c->options);
      }
  printf (".SH GLOBAL OPTIONS\n");
  man_options (global_options);
}

int
main (int argc, char **argv)
{
  const getopt_tables_t *t = tables_for (global_options);
  runfctl_t g = { 0 };
  rf_error_t err = NULL;
  cleanup_free char *spec = xasprintf ("+%s", t->shortopts);
  int c, ret = 1;

  rf_log_init ("runfctl");
  g.rootless = rf_rootless_p ();
  opterr = 0;
  while ((c = getopt_long (argc, argv, spec, t->longopts, NULL)) != -1)
    switch (c)
      {
      case RUNFCTL_OPT_STORE: free (g.store); g.store = xstrdup (optarg); break;
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
  if (strcmp (argv[optind], "__options") == 0)
    {
      dump_options ();
      return 0;
    }
  if (strcmp (argv[optind], "__man") == 0)
    {
      dump_man ();
      return 0;
    }
  for (size_t i = 0; i < ARRAY_SIZE (groups); i++)
    if (strcmp (argv[optind], groups[i]->name) == 0)
      {
        ret = runfctl_dispatch (&g, groups[i], argc - optind - 1, argv + optind + 1, &err);
        if (ret >= 0 && err == NULL)
          {
            free (g.store);
            return ret;
          }
        goto fail;
      }
  /* faas-cli's verbs for stack files. */
  if (strcmp (argv[optind], "deploy") == 0 || strcmp (argv[optind], "rm") == 0)
    {
      ret = runfctl_dispatch (&g, &runfctl_stack_group, argc - optind, argv + optind, &err);
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
