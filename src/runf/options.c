#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "runf.h"

int
runf_next_option (int argc, char **argv, int *index, const runf_option_t *opts,
                  const char **value, rf_error_t *err)
{
  const char *arg, *name, *eq;
  size_t name_len;

  *value = NULL;
  if (*index >= argc)
    return 0;
  arg = argv[*index];
  if (arg[0] != '-' || arg[1] == '\0')
    return 0;
  if (strcmp (arg, "--") == 0)
    {
      (*index)++;
      return 0;
    }
  name = arg[1] == '-' ? arg + 2 : arg + 1;
  eq = strchr (name, '=');
  name_len = eq ? (size_t) (eq - name) : strlen (name);

  for (const runf_option_t *o = opts; o->id; o++)
    {
      bool match = (strlen (o->name) == name_len && strncmp (o->name, name, name_len) == 0)
                   || (arg[1] != '-' && o->short_name && name_len == 1 && name[0] == o->short_name);
      if (!match)
        continue;
      (*index)++;
      if (o->has_arg)
        {
          if (eq)
            *value = eq + 1;
          else if (*index < argc)
            *value = argv[(*index)++];
          else
            return rf_error_make (err, 0, "flag `%s` needs a value", arg);
        }
      else if (eq)
        {
          /* Boolean flags take "=true"/"=false", as Go programs do. */
          if (strcmp (eq + 1, "true") == 0)
            *value = "true";
          else if (strcmp (eq + 1, "false") == 0)
            *value = "false";
          else
            return rf_error_make (err, 0, "flag `%s`: expected true or false", arg);
        }
      else
        *value = "true";
      return o->id;
    }
  if (name_len == 4 && strncmp (name, "help", 4) == 0)
    return rf_error_make (err, RUNF_HELP_REQUESTED, "help");
  if (arg[1] != '-' && name_len == 1 && name[0] == 'h')
    return rf_error_make (err, RUNF_HELP_REQUESTED, "help");
  return rf_error_make (err, 0, "unknown flag `%s`", arg);
}

int
runf_plain_args (int argc, char **argv, int n, const char *what, rf_error_t *err)
{
  static const runf_option_t none[] = { { 0 } };
  const char *value;
  int index = 1;
  if (runf_next_option (argc, argv, &index, none, &value, err) < 0)
    return -1;
  if (argc - index != n)
    return rf_error_make (err, 0, "%s: expected exactly %s", argv[0], what);
  return index;
}

int
runf_parse_int (const char *flag, const char *s, int min, int max, int *out, rf_error_t *err)
{
  char *end;
  long v;
  errno = 0;
  v = strtol (s, &end, 10);
  if (errno || *s == '\0' || *end || v < min || v > max)
    return rf_error_make (err, 0, "%s `%s`: expected a number in %d..%d", flag, s, min, max);
  *out = (int) v;
  return 0;
}
