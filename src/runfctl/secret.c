/* runfctl secret: values functions read as files (/var/openfaas/secrets/NAME
 * and /run/secrets/NAME in their instances), through runfd's admin API
 * (OpenFaaS's /system/secrets).
 *
 *   create NAME [--from-literal V | --from-file F]   (else stdin)
 *   update NAME [...]   ls   rm NAME
 *
 * The value travels as base64 (rawValue): any bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "runfctl.h"

/* As runfd's limit: a secret is a key or a password, not a file system. */
#define SECRET_MAX (512 * 1024)

enum { O_LITERAL = 0x100, O_FROM_FILE };

static const runfctl_option_t put_options[] = {
  { "from-literal", O_LITERAL, required_argument, "VALUE",
    "the value itself (visible in ps and the shell's history; default: read stdin)" },
  { "from-file", O_FROM_FILE, required_argument, "FILE", "the value is FILE's bytes (default: read stdin)" },
  RUNFCTL_API_OPTIONS,
  RUNFCTL_OPTIONS_END,
};

static const runfctl_option_t api_only_options[] = {
  RUNFCTL_API_OPTIONS,
  RUNFCTL_OPTIONS_END,
};

/* Read all of fd, at most SECRET_MAX bytes. */
static int
read_value (const char *cmd, int fd, const char *shown, char **out, size_t *len, rf_error_t *err)
{
  size_t cap = 4096;
  *out = xmalloc (cap);
  *len = 0;
  for (;;)
    {
      ssize_t n;
      if (*len == cap)
        {
          if (cap > SECRET_MAX)
            return rf_error_make (err, EFBIG, "%s: %s: more than %d bytes", cmd, shown, SECRET_MAX);
          cap *= 2;
          *out = xrealloc (*out, cap);
        }
      n = read (fd, *out + *len, cap - *len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return rf_error_sys (err, "%s: read %s", cmd, shown);
      if (n == 0)
        break;
      *len += (size_t) n;
    }
  if (*len > SECRET_MAX)
    return rf_error_make (err, EFBIG, "%s: %s: more than %d bytes", cmd, shown, SECRET_MAX);
  return 0;
}

static int
put (runfctl_t *g, int argc, char **argv, bool create, rf_error_t *err)
{
  const char *cmd = create ? "secret create" : "secret update";
  const char *literal = NULL, *file = NULL;
  cleanup_free char *value = NULL;
  cleanup_free char *b64 = NULL;
  cleanup_free char *text = NULL;
  cleanup_json json_t *req = NULL;
  cleanup_json json_t *res = NULL;
  size_t len = 0;
  int c;

  while ((c = runfctl_getopt (g, argc, argv, cmd, put_options, err)) != -1)
    {
      if (c == '?' || runfctl_api_option (c, err) < 0)
        return -1;
      if (c == O_LITERAL)
        literal = optarg;
      else if (c == O_FROM_FILE)
        file = optarg;
    }
  if (runfctl_positional (argc, argv, 1, cmd, "NAME", err) < 0)
    return -1;
  if (literal && file)
    return rf_error_make (err, 0, "%s: --from-literal and --from-file: give one", cmd);
  if (literal)
    {
      value = xstrdup (literal);
      len = strlen (literal);
    }
  else
    {
      cleanup_close int fd = file ? open (file, O_RDONLY | O_CLOEXEC) : dup (0);
      cleanup_free char *shown = file ? xasprintf ("`%s`", file) : xstrdup ("stdin");
      if (fd < 0)
        return rf_error_sys (err, "%s: --from-file `%s`", cmd, file);
      if (file == NULL && isatty (fd))
        return rf_error_make (err, 0, "%s: the value: give --from-literal or --from-file, or pipe it to stdin", cmd);
      if (read_value (cmd, fd, shown, &value, &len, err) < 0)
        return -1;
    }
  b64 = xmalloc (4 * ((len + 2) / 3) + 1);
  EVP_EncodeBlock ((unsigned char *) b64, (const unsigned char *) value, (int) len);
  req = json_pack ("{s:s, s:s}", "name", argv[optind], "rawValue", b64);
  text = json_dumps (req, JSON_COMPACT);
  res = runfctl_api_json (cmd, create ? "POST" : "PUT", "/system/secrets", text, NULL, err);
  return res ? 0 : -1;
}

static int
secret_create (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  return put (g, argc, argv, true, err);
}

static int
secret_update (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  return put (g, argc, argv, false, err);
}

static int
api_args (runfctl_t *g, int argc, char **argv, const char *cmd, int n, const char *names, rf_error_t *err)
{
  int c;
  while ((c = runfctl_getopt (g, argc, argv, cmd, api_only_options, err)) != -1)
    if (c == '?' || runfctl_api_option (c, err) < 0)
      return -1;
  return runfctl_positional (argc, argv, n, cmd, names, err);
}

static int
secret_ls (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_json json_t *list = NULL;
  json_t *s;
  size_t i;
  if (api_args (g, argc, argv, "secret ls", 0, "", err) < 0)
    return -1;
  list = runfctl_api_json ("secret ls", "GET", "/system/secrets", NULL, NULL, err);
  if (list == NULL)
    return -1;
  printf ("NAME\n");
  json_array_foreach (list, i, s)
    printf ("%s\n", json_string_value (json_object_get (s, "name")));
  return 0;
}

static int
secret_rm (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_json json_t *req = NULL;
  cleanup_json json_t *res = NULL;
  cleanup_free char *text = NULL;
  if (api_args (g, argc, argv, "secret rm", 1, "NAME", err) < 0)
    return -1;
  req = json_pack ("{s:s}", "name", argv[optind]);
  text = json_dumps (req, JSON_COMPACT);
  res = runfctl_api_json ("secret rm", "DELETE", "/system/secrets", text, NULL, err);
  return res ? 0 : -1;
}

static const runfctl_command_t secret_commands[] = {
  { "create", secret_create, "NAME", "store a secret: a value functions that name it read as a file", put_options,
    "The value comes from --from-literal, --from-file, or stdin.  A function deployed\n"
    "with --secret NAME reads it at /var/openfaas/secrets/NAME and /run/secrets/NAME.\n" },
  { "update", secret_update, "NAME", "replace a secret's value; functions read the new one from then on",
    put_options, NULL },
  { "ls", secret_ls, "", "list the secrets' names (never their values)", api_only_options, NULL },
  { "rm", secret_rm, "NAME", "remove a secret no function uses", api_only_options, NULL },
};

const runfctl_group_t runfctl_secret_group = {
  "secret", secret_commands, ARRAY_SIZE (secret_commands),
  "secrets: values functions read as files (through runfd)",
};
