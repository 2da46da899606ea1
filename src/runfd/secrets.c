/* Secrets: values a function reads as files, never from its environment.
 *
 * The store is STATE/secrets/NAME, 0600 in a 0700 directory: runfd's
 * alone.  A function that names secrets gets, per version, a directory
 * RUN/secrets/NAME.ID with a copy of each, 0400 and owned by the host id
 * its instances' user maps to (so the instance can read it, and no other
 * local user can), in a directory of that owner's, mode 0500.  Instances
 * see it read-only at /var/openfaas/secrets and /run/secrets; nothing of
 * a secret is in a config, the environment, a log or an API answer.  An
 * update rewrites every copy by a rename: the next read sees the new
 * value. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "runfd.h"

static char *
store_dir (void)
{
  return xasprintf ("%s/secrets", rfd_config.state_dir);
}

static char *
store_path (const char *name)
{
  return xasprintf ("%s/secrets/%s", rfd_config.state_dir, name);
}

bool
rfd_secret_exists_p (const char *name)
{
  cleanup_free char *path = NULL;
  struct stat st;
  if (!rfd_secret_name_valid_p (name))
    return false;
  path = store_path (name);
  return lstat (path, &st) == 0 && S_ISREG (st.st_mode);
}

/* Write a file whole under a temporary name, owned and moded as asked,
   then rename it into place: a reader never sees half a value. */
static int
write_owned (int dirfd, const char *name, const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid,
             rf_error_t *err)
{
  cleanup_free char *tmp = xasprintf (".%s.tmp", name);
  cleanup_close int fd = -1;
  unlinkat (dirfd, tmp, 0);
  fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return rf_error_sys (err, "create `%s`", tmp);
  if (rf_write_all (fd, data, len) < 0 || (uid != (uid_t) -1 && fchown (fd, uid, gid) < 0) || fchmod (fd, mode) < 0
      || renameat (dirfd, tmp, dirfd, name) < 0)
    {
      rf_error_sys (err, "write `%s`", name);
      unlinkat (dirfd, tmp, 0);
      return -1;
    }
  return 0;
}

static int
read_secret (const char *name, char **data, size_t *len, rf_error_t *err)
{
  cleanup_free char *path = store_path (name);
  if (!rfd_secret_exists_p (name))
    return rf_error_make (err, ENOENT, "secret `%s` does not exist (runfctl secret create %s)", name, name);
  return rf_read_file_at (AT_FDCWD, path, RFD_SECRET_MAX, data, len, err);
}

/* The copies of one secret in a function's directory. */
static int
install_one (rfd_function_t *fn, const char *name, rf_error_t *err)
{
  cleanup_free char *data = NULL;
  cleanup_close int dfd = -1;
  size_t len = 0;
  int r;
  if (read_secret (name, &data, &len, err) < 0)
    return -1;
  dfd = open (fn->secrets_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return rf_error_sys (err, "open `%s`", fn->secrets_dir);
  /* The directory is the instances' to read only (0500): rootless, runfd
     is its owner and needs the write bit while it renames a copy in. */
  if (rfd_config.rootless && chmod (fn->secrets_dir, 0700) < 0)
    return rf_error_sys (err, "chmod `%s`", fn->secrets_dir);
  r = write_owned (dfd, name, data, len, 0400, rfd_config.rootless ? (uid_t) -1 : fn->secrets_uid,
                   fn->secrets_gid, err);
  if (rfd_config.rootless && chmod (fn->secrets_dir, 0500) < 0 && r == 0)
    return rf_error_sys (err, "chmod `%s`", fn->secrets_dir);
  return r;
}

int
rfd_secrets_install (rfd_function_t *fn, rf_error_t *err)
{
  cleanup_free char *parent = xasprintf ("%s/secrets", rfd_config.run_dir);
  if (fn->secrets == NULL || fn->secrets[0] == NULL)
    return 0;
  for (size_t i = 0; fn->secrets[i]; i++)
    if (!rfd_secret_exists_p (fn->secrets[i]))
      return rf_error_make (err, ENOENT, "secrets: `%s` does not exist (runfctl secret create %s)", fn->secrets[i],
                            fn->secrets[i]);
  /* As root the instances' ids must pass through the parent (0711, as
     run/sock), and only they may list or read their own directory. */
  if (rf_mkdir_p (parent, 0700, err) < 0)
    return -1;
  chmod (parent, rfd_config.rootless ? 0700 : 0711);
  fn->secrets_dir = xasprintf ("%s/%s.%u", parent, fn->name, fn->id);
  rf_rm_rf (fn->secrets_dir, NULL);
  if (mkdir (fn->secrets_dir, 0700) < 0)
    return rf_error_sys (err, "mkdir `%s`", fn->secrets_dir);
  for (size_t i = 0; fn->secrets[i]; i++)
    if (install_one (fn, fn->secrets[i], err) < 0)
      return rf_error_wrap (err, "function `%s`: secret `%s`", fn->name, fn->secrets[i]);
  if (!rfd_config.rootless && chown (fn->secrets_dir, fn->secrets_uid, fn->secrets_gid) < 0)
    return rf_error_sys (err, "chown `%s`", fn->secrets_dir);
  if (chmod (fn->secrets_dir, 0500) < 0)
    return rf_error_sys (err, "chmod `%s`", fn->secrets_dir);
  return 0;
}

void
rfd_secrets_uninstall (rfd_function_t *fn)
{
  if (fn->secrets_dir == NULL)
    return;
  /* Rootless, runfd may only remove what is in it once it may write it. */
  chmod (fn->secrets_dir, 0700);
  rf_rm_rf (fn->secrets_dir, NULL);
  free (fn->secrets_dir);
  fn->secrets_dir = NULL;
}

void
rfd_secrets_sweep (void)
{
  cleanup_free char *parent = xasprintf ("%s/secrets", rfd_config.run_dir);
  DIR *d = opendir (parent);
  struct dirent *de;
  while (d && (de = readdir (d)) != NULL)
    if (de->d_name[0] != '.' && fchmodat (dirfd (d), de->d_name, 0700, 0) < 0)
      rf_debug ("chmod `%s/%s`: %s", parent, de->d_name, strerror (errno));
  if (d)
    closedir (d);
  rf_rm_rf (parent, NULL);
}

static bool
uses_p (const rfd_function_t *fn, const char *name)
{
  for (size_t i = 0; fn->secrets && fn->secrets[i]; i++)
    if (strcmp (fn->secrets[i], name) == 0)
      return true;
  return false;
}

int
rfd_secret_put (const char *name, const void *data, size_t len, bool create, rf_error_t *err)
{
  cleanup_free char *dir = store_dir ();
  cleanup_close int dfd = -1;
  bool exists;

  if (!rfd_secret_name_valid_p (name))
    return rf_error_make (err, 0, "name `%.64s`: a secret's name is 1-63 of a-z A-Z 0-9 . _ -, starting with a letter "
                                  "or digit", name);
  if (len > RFD_SECRET_MAX)
    return rf_error_make (err, EFBIG, "secret `%s`: %zu bytes; at most %d", name, len, RFD_SECRET_MAX);
  exists = rfd_secret_exists_p (name);
  if (create && exists)
    return rf_error_make (err, EEXIST, "secret `%s` already exists (update replaces its value)", name);
  if (!create && !exists)
    return rf_error_make (err, ENOENT, "secret `%s` does not exist", name);
  if (rf_mkdir_p (dir, 0700, err) < 0)
    return -1;
  chmod (dir, 0700);
  dfd = open (dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return rf_error_sys (err, "open `%s`", dir);
  if (write_owned (dfd, name, data, len, 0600, (uid_t) -1, (gid_t) -1, err) < 0)
    return rf_error_wrap (err, "secret `%s`", name);
  /* Every function that reads it sees the new value from its next read
     on. */
  for (rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (fn->secrets_dir && uses_p (fn, name))
      {
        rf_error_t ferr = NULL;
        if (install_one (fn, name, &ferr) < 0)
          {
            cleanup_free char *why = rf_error_text (ferr);
            rf_error_free (&ferr);
            rf_log (RF_LOG_WARN, "function %s: secret `%s` not renewed: %s", fn->name, name, why);
          }
      }
  return 0;
}

int
rfd_secret_remove (const char *name, rf_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_free char *users = NULL;
  if (!rfd_secret_exists_p (name))
    return rf_error_make (err, ENOENT, "secret `%.64s` does not exist", name);
  /* A function that reads it would fail at its next start: it is removed
     first (OpenFaaS's providers refuse the same). */
  for (rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (!fn->removing && uses_p (fn, name))
      {
        char *more = xasprintf ("%s%s%s", users ? users : "", users ? ", " : "", fn->name);
        free (users);
        users = more;
      }
  if (users)
    return rf_error_make (err, EBUSY, "secret `%s` is used by %s; remove or update those first", name, users);
  path = store_path (name);
  if (unlink (path) < 0)
    return rf_error_sys (err, "remove secret `%s`", name);
  return 0;
}

json_t *
rfd_secrets_list (void)
{
  cleanup_free char *dir = store_dir ();
  json_t *list = json_array ();
  struct dirent **names = NULL;
  int n = scandir (dir, &names, NULL, alphasort);
  for (int i = 0; i < n; i++)
    {
      if (rfd_secret_exists_p (names[i]->d_name))
        json_array_append_new (list, json_pack ("{s:s, s:s}", "name", names[i]->d_name, "namespace", rfd_namespace));
      free (names[i]);
    }
  free (names);
  return list;
}
