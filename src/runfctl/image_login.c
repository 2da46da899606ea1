/* runfctl image login REGISTRY and runfctl image logout REGISTRY|--all:
 * credentials in the auth files podman, skopeo and docker read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "image/auth.h"
#include "image/reference.h"
#include "image/registry.h"
#include "runfctl.h"

enum { O_USERNAME = 'u', O_PASSWORD = 'p', O_PASSWORD_STDIN = 1, O_DOCKER, O_ALL };

#define AUTHFILE_HELP                                                                              \
  "the auth file (default: $REGISTRY_AUTH_FILE, else podman's: "                                  \
  "$XDG_RUNTIME_DIR/containers/auth.json, or /run/containers/UID/auth.json without it)"

const runfctl_option_t runfctl_login_options[] = {
  { "username", O_USERNAME, required_argument, "USER", "the user (default: asked on the terminal)" },
  { "password", O_PASSWORD, required_argument, "PASS",
    "the password; others can see it in the process list, prefer --password-stdin "
    "(default: asked on the terminal)" },
  { "password-stdin", O_PASSWORD_STDIN, no_argument, NULL, "read the password from stdin" },
  { "authfile", RUNFCTL_OPT_AUTHFILE, required_argument, "FILE", AUTHFILE_HELP },
  { "docker", O_DOCKER, no_argument, NULL,
    "write docker's file instead: $DOCKER_CONFIG/config.json or ~/.docker/config.json" },
  { "tls-verify", RUNFCTL_OPT_TLS_VERIFY, optional_argument, "true|false",
    "check the registry's TLS certificate; false also allows plain HTTP (default: true; "
    "plain HTTP is always allowed on 127.0.0.0/8 and ::1)" },
  { "timeout", RUNFCTL_OPT_TIMEOUT, required_argument, "S",
    "seconds without a byte before a request fails, up to 3600 (default: 30)" },
  { "retries", RUNFCTL_OPT_RETRIES, required_argument, "N",
    "retries of a request that failed with 5xx, 408, 429 or a dropped connection (default: 3)" },
  RUNFCTL_OPTIONS_END,
};

const runfctl_option_t runfctl_logout_options[] = {
  { "authfile", RUNFCTL_OPT_AUTHFILE, required_argument, "FILE", AUTHFILE_HELP },
  { "docker", O_DOCKER, no_argument, NULL,
    "remove from docker's file instead: $DOCKER_CONFIG/config.json or ~/.docker/config.json" },
  { "all", O_ALL, no_argument, NULL, "remove every registry's credentials from the file" },
  RUNFCTL_OPTIONS_END,
};

static char *
auth_file_for (const char *authfile, bool docker)
{
  char *given;
  if (authfile)
    return xstrdup (authfile);
  if ((given = rf_auth_file_given ()) != NULL)
    return given;
  return docker ? rf_auth_file_docker () : rf_auth_file_default ();
}

/* One line from fd, without its newline (at most 4 KiB). */
static char *
read_line (int fd, const char *what, rf_error_t *err)
{
  char buf[4097];
  size_t n = 0;
  while (n < sizeof buf - 1)
    {
      ssize_t r = read (fd, buf + n, 1);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return rf_error_sys (err, "read the %s", what), NULL;
      if (r == 0 || buf[n] == '\n')
        break;
      n++;
    }
  if (n > 0 && buf[n - 1] == '\r')
    n--;
  buf[n] = '\0';
  return xstrdup (buf);
}

/* On the terminal, the password without its echo. */
static char *
ask (const char *prompt, bool secret, rf_error_t *err)
{
  cleanup_close int tty = open ("/dev/tty", O_RDWR | O_CLOEXEC);
  struct termios old, quiet;
  char *line;
  if (tty < 0)
    return rf_error_make (err, 0, "no terminal to ask for the %s on: give it with %s", prompt,
                          secret ? "--password-stdin" : "--username"),
           NULL;
  if (rf_write_all (tty, prompt, strlen (prompt)) < 0 || rf_write_all (tty, ": ", 2) < 0)
    return rf_error_sys (err, "write to the terminal"), NULL;
  if (secret && tcgetattr (tty, &old) == 0)
    {
      quiet = old;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      tcsetattr (tty, TCSAFLUSH, &quiet);
      line = read_line (tty, prompt, err);
      tcsetattr (tty, TCSAFLUSH, &old);
      rf_write_all (tty, "\n", 1);
    }
  else
    line = read_line (tty, prompt, err);
  return line;
}

int
runfctl_image_login (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_free char *user = NULL, *pass = NULL, *key = NULL, *file = NULL;
  runfctl_creds_t unused = { 0 };
  rf_registry_opts_t opts = { .tls_verify = true, .timeout = 30, .retries = 3 };
  bool from_stdin = false, docker = false;
  rf_registry_t *r;
  rf_ref_t ref = { 0 };
  char *slash;
  int c, ret;

  while ((c = runfctl_getopt (g, argc, argv, "image login", runfctl_login_options, err)) != -1)
    switch (c)
      {
      case O_USERNAME: free (user); user = xstrdup (optarg); break;
      case O_PASSWORD: free (pass); pass = xstrdup (optarg); break;
      case O_PASSWORD_STDIN: from_stdin = true; break;
      case O_DOCKER: docker = true; break;
      default:
        if (runfctl_registry_option (c, "image login", &opts, &unused, err) <= 0)
          return -1;
      }
  if (runfctl_positional (argc, argv, 1, "image login", "REGISTRY", err) < 0
      || rf_auth_key (argv[optind], &key, err) < 0)
    return rf_error_wrap (err, "image login");
  if (from_stdin && pass)
    return rf_error_make (err, 0, "image login: --password and --password-stdin: give one");
  if (user == NULL && (user = ask ("Username", false, err)) == NULL)
    return rf_error_wrap (err, "image login");
  if (from_stdin && (pass = read_line (STDIN_FILENO, "password", err)) == NULL)
    return rf_error_wrap (err, "image login");
  if (pass == NULL && (pass = ask ("Password", true, err)) == NULL)
    return rf_error_wrap (err, "image login");
  if (*user == '\0' || strchr (user, ':'))
    return rf_error_make (err, 0, "image login: the user name must be non-empty, without `:`");
  if (*pass == '\0')
    return rf_error_make (err, 0, "image login: the password is empty");

  /* The credentials are tried on the registry before they are kept. */
  slash = strchr (key, '/');
  ref.domain = slash ? xstrndup (key, (size_t) (slash - key)) : xstrdup (key);
  ref.path = xstrdup (slash ? slash + 1 : "");
  opts.user = user;
  opts.pass = pass;
  r = rf_registry_new (&ref, &opts);
  ret = rf_registry_ping (r, err);
  rf_registry_free (r);
  rf_ref_clear (&ref);
  if (ret < 0)
    return rf_error_wrap (err, "image login: `%s`", key);
  file = auth_file_for (opts.authfile, docker);
  if (rf_auth_store (file, key, user, pass, err) < 0)
    return rf_error_wrap (err, "image login");
  printf ("Login Succeeded: %s (in %s)\n", key, file);
  return 0;
}

int
runfctl_image_logout (runfctl_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_free char *key = NULL, *file = NULL;
  const char *authfile = NULL;
  bool docker = false, all = false, found;
  int c;

  while ((c = runfctl_getopt (g, argc, argv, "image logout", runfctl_logout_options, err)) != -1)
    switch (c)
      {
      case RUNFCTL_OPT_AUTHFILE: authfile = optarg; break;
      case O_DOCKER: docker = true; break;
      case O_ALL: all = true; break;
      default: return -1;
      }
  if (runfctl_positional (argc, argv, all ? 0 : 1, "image logout", "REGISTRY (or --all)", err) < 0
      || (!all && rf_auth_key (argv[optind], &key, err) < 0))
    return rf_error_wrap (err, "image logout");
  file = auth_file_for (authfile, docker);
  if (rf_auth_remove (file, key, &found, err) < 0)
    return rf_error_wrap (err, "image logout");
  if (all)
    {
      printf ("removed all credentials from %s\n", file);
      return 0;
    }
  if (!found)
    {
      cleanup_free char *other = docker ? rf_auth_file_default () : rf_auth_file_docker ();
      char *u = NULL, *p = NULL;
      bool elsewhere = authfile == NULL
                       && rf_creds_lookup (other, key, "", &u, &p, NULL) == 0 && u != NULL;
      free (u);
      free (p);
      if (elsewhere)
        return rf_error_make (err, 0, "image logout: not logged in to `%s` in %s; the credentials "
                                      "are in %s (%s)",
                              key, file, other, docker ? "drop --docker" : "add --docker");
      return rf_error_make (err, 0, "image logout: not logged in to `%s` (in %s)", key, file);
    }
  printf ("Removed login credentials for %s (from %s)\n", key, file);
  return 0;
}
