#include "bundle.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "fsops.h"
#include "passwd.h"
#include "runtime/spec.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define ETC_MAX (4 * 1024 * 1024)

static char *
read_image_file (int root_fd, const char *path)
{
  cleanup_close int fd = rf_open_in_root (root_fd, path, NULL);
  char *text = NULL;
  size_t len;
  if (fd < 0 || rf_read_fd (fd, ETC_MAX, &text, &len, NULL) < 0)
    return NULL;
  return text;
}

static bool
env_has (json_t *env, const char *name)
{
  size_t i, len = strlen (name);
  json_t *v;
  json_array_foreach (env, i, v)
    if (strncmp (json_string_value (v), name, len) == 0 && json_string_value (v)[len] == '=')
      return true;
  return false;
}

static void
annotate (json_t *ann, const char *key, const char *value)
{
  if (value && *value)
    json_object_set_new (ann, key, json_string (value));
}

json_t *
rf_bundle_config (const rf_image_t *img, int root_fd, rf_bundle_opts_t *opts, rf_error_t *err)
{
  const rf_image_config_t *c = &img->config;
  cleanup_free char *passwd = read_image_file (root_fd, "/etc/passwd");
  cleanup_free char *group = read_image_file (root_fd, "/etc/group");
  cleanup_json json_t *spec = rf_spec_default (opts->rootless);
  json_t *process = json_object_get (spec, "process");
  json_t *args = json_array (), *env = json_array (), *ann = json_object ();
  json_t *user, *gids;
  rf_exec_user_t eu;

  if (rf_user_resolve (c->user, passwd, group, &eu, err) < 0)
    {
      json_decref (args);
      json_decref (env);
      json_decref (ann);
      return NULL;
    }
  for (size_t i = 0; c->entrypoint && c->entrypoint[i]; i++)
    json_array_append_new (args, json_string (c->entrypoint[i]));
  for (size_t i = 0; c->cmd && c->cmd[i]; i++)
    json_array_append_new (args, json_string (c->cmd[i]));
  opts->no_command = json_array_size (args) == 0;
  if (opts->no_command)
    json_array_append_new (args, json_string ("sh"));
  json_object_set_new (process, "args", args);

  for (size_t i = 0; c->env && c->env[i]; i++)
    if (strchr (c->env[i], '='))
      json_array_append_new (env, json_string (c->env[i]));
  if (!env_has (env, "PATH"))
    json_array_insert_new (env, 0, json_string (DEFAULT_PATH));
  if (!env_has (env, "HOME"))
    {
      cleanup_free char *home = xasprintf ("HOME=%s", eu.home && *eu.home ? eu.home : "/");
      json_array_append_new (env, json_string (home));
    }
  json_object_set_new (process, "env", env);

  if (c->working_dir && *c->working_dir)
    {
      cleanup_free char *cwd = c->working_dir[0] == '/' ? xstrdup (c->working_dir)
                                                       : xasprintf ("/%s", c->working_dir);
      json_object_set_new (process, "cwd", json_string (cwd));
    }
  json_object_set_new (process, "terminal", json_false ());

  user = json_pack ("{s:I, s:I}", "uid", (json_int_t) eu.uid, "gid", (json_int_t) eu.gid);
  if (eu.n_groups)
    {
      gids = json_array ();
      for (size_t i = 0; i < eu.n_groups; i++)
        json_array_append_new (gids, json_integer (eu.groups[i]));
      json_object_set_new (user, "additionalGids", gids);
    }
  json_object_set_new (process, "user", user);
  if (opts->rootless && (eu.uid != 0 || eu.gid != 0 || eu.n_groups))
    {
      /* One id is all an unprivileged user can map: the caller becomes the
         image's user (whose files the caller owns) instead of root. */
      json_t *linux_ = json_object_get (spec, "linux");
      json_object_set_new (linux_, "uidMappings",
                           json_pack ("[{s:I, s:I, s:i}]", "containerID", (json_int_t) eu.uid,
                                      "hostID", (json_int_t) geteuid (), "size", 1));
      json_object_set_new (linux_, "gidMappings",
                           json_pack ("[{s:I, s:I, s:i}]", "containerID", (json_int_t) eu.gid,
                                      "hostID", (json_int_t) getegid (), "size", 1));
      json_object_del (user, "additionalGids");
    }
  rf_exec_user_clear (&eu);

  json_object_set_new (spec, "root", json_pack ("{s:s, s:b}", "path", opts->root_path,
                                                "readonly", opts->readonly));
  for (size_t i = 0; c->labels && c->labels[i]; i += 2)
    json_object_set_new (ann, c->labels[i], json_string (c->labels[i + 1]));
  annotate (ann, "org.opencontainers.image.os", c->os);
  annotate (ann, "org.opencontainers.image.architecture", c->architecture);
  annotate (ann, "org.opencontainers.image.created", c->created);
  annotate (ann, "org.opencontainers.image.author", c->author);
  annotate (ann, "org.opencontainers.image.stopSignal", c->stop_signal);
  annotate (ann, "org.opencontainers.image.digest", img->digest);
  json_object_set_new (spec, "annotations", ann);
  return steal_pointer (&spec);
}

int
rf_bundle_write_config (const char *dir, json_t *config, rf_error_t *err)
{
  cleanup_free char *text = json_dumps (config, JSON_INDENT (2));
  cleanup_free char *path = xasprintf ("%s/config.json", dir);
  cleanup_free char *with_nl = xasprintf ("%s\n", text);
  return rf_write_file_atomic (path, with_nl, strlen (with_nl), 0644, err);
}
