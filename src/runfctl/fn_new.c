/* runfctl fn new NAME --lang L: a handler directory from a template
 * (share/runf/templates/L, compiled in) and a stack file, as faas-cli new
 * writes them, with the commands that build and deploy it printed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fnname.h"
#include "common/fsutil.h"
#include "image/fsops.h"
#include "image/reference.h"
#include "runfctl.h"
#include "templates.h"

typedef struct
{
  const char *lang;
  const char *mode;    /* the handler protocol the template speaks */
  const char *base;    /* the default base image */
  const char *summary;
  const char *build;   /* image build's options after --from */
  const char *prepare; /* a command to run first on the handler directory, or NULL */
  const char *context; /* what is built into the image, below the handler directory */
} lang_t;

static const lang_t langs[] = {
  { "sh", "stdio", "docker.io/library/busybox:latest",
    "a shell script behind runfd's CGI-like shim: body on stdin, answer on stdout",
    "--dest /function --workdir /function --cmd /bin/sh --cmd /function/handler.sh", NULL, "" },
  { "python3", "warm", "docker.io/library/python:3-slim",
    "an http.server on the listening socket (fd 3), long-lived instances",
    "--dest /function --workdir /function --cmd python3 --cmd /function/handler.py", NULL, "" },
  { "node", "warm", "docker.io/library/node:lts-slim",
    "an http server on the listening socket (fd 3), long-lived instances",
    "--dest /function --workdir /function --cmd node --cmd /function/handler.js", NULL, "" },
  { "c", "inetd", "scratch",
    "a static C program: one request on the accepted socket (fd 3), a fresh container each",
    "--cmd /handler", "make -C", "/out" },
};

enum { O_LANG = 1, O_DIR, O_BASE, O_LIST };

const runfctl_option_t runfctl_fn_new_options[] = {
  { "lang", O_LANG, required_argument, "L", "the template: sh, python3, node or c (required; --list)" },
  { "dir", O_DIR, required_argument, "DIR",
    "where to write NAME/ and NAME.yml (default: the current directory)" },
  { "base", O_BASE, required_argument, "IMAGE",
    "the base image the printed build command uses (default: the template's, see --list)" },
  { "list", O_LIST, no_argument, NULL, "list the templates, their modes and base images" },
  RUNFCTL_OPTIONS_END,
};

static const lang_t *
find_lang (const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE (langs); i++)
    if (strcmp (langs[i].lang, name) == 0)
      return &langs[i];
  return NULL;
}

/* The template's text with __NAME__ replaced. */
static char *
substitute (const char *text, const char *name)
{
  size_t n = 0, nlen = strlen (name);
  const char *p;
  char *out, *o;
  for (p = text; (p = strstr (p, "__NAME__")) != NULL; p += 8)
    n++;
  out = o = xmalloc (strlen (text) + n * nlen + 1);
  for (p = text;;)
    {
      const char *hit = strstr (p, "__NAME__");
      size_t k = hit ? (size_t) (hit - p) : strlen (p);
      memcpy (o, p, k);
      o += k;
      if (hit == NULL)
        break;
      memcpy (o, name, nlen);
      o += nlen;
      p = hit + 8;
    }
  *o = '\0';
  return out;
}

static int
write_new (int dfd, const char *name, const char *text, int mode, const char *shown, rf_error_t *err)
{
  cleanup_close int fd = openat (dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0)
    return rf_error_sys (err, "create `%s`", shown);
  if (fchmod (fd, (mode_t) mode) < 0 || rf_write_all (fd, text, strlen (text)) < 0)
    return rf_error_sys (err, "write `%s`", shown);
  return 0;
}

static char *
stack_file (const lang_t *l, const char *name, const char *image, const char *prepare,
            const char *build)
{
  cleanup_free char *first = prepare ? xasprintf ("#   %s\n", prepare) : xstrdup ("");
  return xasprintf ("# A faas-cli stack file, with runf's own keys (mode).  Written by\n"
                    "# runfctl fn new; build the image (no daemon, no network) with\n"
                    "%s"
                    "#   runfctl image build -t %s %s\n"
                    "# then deploy it with runfctl deploy -f %s.yml, or\n"
                    "#   runfctl fn deploy %s %s --mode %s\n"
                    "version: 1.0\n"
                    "provider:\n"
                    "  name: openfaas\n"
                    "  gateway: http://127.0.0.1:8080\n"
                    "functions:\n"
                    "  %s:\n"
                    "    lang: %s\n"
                    "    handler: ./%s\n"
                    "    image: %s\n"
                    "    mode: %s\n",
                    first, image, build,
                    name, name, image, l->mode, name, l->lang, name, image, l->mode);
}

int
runfctl_fn_new (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  const char *lang = NULL, *dir = ".", *base = NULL, *name;
  cleanup_free char *image = NULL, *handler_dir = NULL, *tmp = NULL, *final = NULL;
  cleanup_free char *yml = NULL, *yml_tmp = NULL, *yml_text = NULL, *build = NULL;
  cleanup_free char *prepare = NULL, *context = NULL;
  cleanup_close int tmp_fd = -1;
  const lang_t *l;
  struct stat st;
  rf_ref_t ref;
  bool list = false;
  int c, ret = -1;

  while ((c = runfctl_getopt (g, argc, argv, "fn new", runfctl_fn_new_options, err)) != -1)
    switch (c)
      {
      case O_LANG: lang = optarg; break;
      case O_DIR: dir = optarg; break;
      case O_BASE: base = optarg; break;
      case O_LIST: list = true; break;
      default: return -1;
      }
  if (list)
    {
      printf ("%-8s %-6s %-34s %s\n", "LANG", "MODE", "BASE", "WHAT");
      for (size_t i = 0; i < ARRAY_SIZE (langs); i++)
        printf ("%-8s %-6s %-34s %s\n", langs[i].lang, langs[i].mode, langs[i].base, langs[i].summary);
      return 0;
    }
  if (runfctl_positional (argc, argv, 1, "fn new", "NAME", err) < 0)
    return -1;
  name = argv[optind];
  if (lang == NULL)
    return rf_error_make (err, 0, "fn new: missing --lang (sh, python3, node or c)");
  if ((l = find_lang (lang)) == NULL)
    return rf_error_make (err, 0, "fn new: --lang `%.40s`: expected sh, python3, node or c", lang);
  image = xasprintf ("localhost/%s:latest", name);
  if (!rf_function_name_valid_p (name) || rf_ref_parse (image, &ref, NULL) < 0)
    return rf_error_make (err, 0, "fn new: `%.80s`: a function name is 1-63 of a-z 0-9 - _, "
                                  "starting with a letter or digit",
                          name);
  rf_ref_clear (&ref);

  handler_dir = strcmp (dir, ".") == 0 ? xstrdup (name) : xasprintf ("%s/%s", dir, name);
  yml = strcmp (dir, ".") == 0 ? xasprintf ("%s.yml", name) : xasprintf ("%s/%s.yml", dir, name);
  if (lstat (handler_dir, &st) == 0 || lstat (yml, &st) == 0)
    return rf_error_make (err, 0, "fn new: `%s` exists; remove it first",
                          lstat (handler_dir, &st) == 0 ? handler_dir : yml);
  if (stat (dir, &st) < 0 || !S_ISDIR (st.st_mode))
    return rf_error_sys (err, "fn new: --dir `%s`", dir);

  context = xasprintf ("%s%s", handler_dir, l->context);
  build = xasprintf ("--from %s %s %s", base ? base : l->base, l->build, context);
  if (l->prepare)
    prepare = xasprintf ("%s %s", l->prepare, handler_dir);
  yml_text = stack_file (l, name, image, prepare, build);

  /* Written beside, renamed into place whole. */
  tmp = xasprintf ("%s/.%s.XXXXXX", dir, name);
  if (mkdtemp (tmp) == NULL)
    {
      rf_error_sys (err, "fn new: mkdir in `%s`", dir);
      free (tmp);
      tmp = NULL;
      return -1;
    }
  tmp_fd = open (tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tmp_fd < 0 || fchmod (tmp_fd, 0755) < 0)
    {
      rf_error_sys (err, "fn new: open `%s`", tmp);
      goto out;
    }
  for (const runfctl_template_file_t *f = runfctl_template_files; f->lang; f++)
    if (strcmp (f->lang, l->lang) == 0)
      {
        cleanup_free char *text = substitute (f->text, name);
        cleanup_free char *shown = xasprintf ("%s/%s", handler_dir, f->name);
        if (write_new (tmp_fd, f->name, text, f->mode, shown, err) < 0)
          goto out;
      }
  yml_tmp = xasprintf ("%s/.%s.yml", tmp, name);
  if (rf_write_file_atomic (yml_tmp, yml_text, strlen (yml_text), 0644, err) < 0)
    goto out;
  if (rename (tmp, handler_dir) < 0)
    {
      rf_error_sys (err, "fn new: rename `%s` to `%s`", tmp, handler_dir);
      goto out;
    }
  free (tmp);
  tmp = NULL;
  final = xasprintf ("%s/.%s.yml", handler_dir, name);
  if (rename (final, yml) < 0)
    {
      rf_error_sys (err, "fn new: rename `%s` to `%s`", final, yml);
      rf_rm_tree_at (AT_FDCWD, handler_dir, NULL);
      goto out;
    }
  printf ("wrote %s/ and %s: %s, %s mode\n\n", handler_dir, yml, l->lang, l->mode);
  printf ("Build it (no daemon, no network; the base image must be in the store):\n");
  if (prepare)
    printf ("  %s\n", prepare);
  printf ("  runfctl image build -t %s %s\nDeploy it:\n  runfctl fn deploy %s %s --mode %s\n", image,
          build, name, image, l->mode);
  ret = 0;

out:
  if (tmp)
    rf_rm_tree_at (AT_FDCWD, tmp, NULL);
  return ret;
}
