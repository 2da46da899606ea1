#include "manage.h"

#include <errno.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "cgroup_systemd.h"
#include "state.h"

/* The container's state, read under its lock (held in *lock). */
static int
open_locked (const char *root, const char *id, rf_state_t *st, int *lock, rf_status_t *status,
             rf_error_t *err)
{
  cleanup_free char *dir = NULL;
  if (rf_state_read (root, id, st, err) < 0)
    return -1;
  dir = rf_state_dir (root, id);
  *lock = rf_state_lock (dir, err);
  if (*lock < 0)
    {
      rf_state_clear (st);
      return -1;
    }
  *status = rf_state_status (root, st);
  return 0;
}

static int
no_cgroup (const char *what, const char *id, rf_error_t *err)
{
  return rf_error_make (err, ENOTSUP,
                        "%s: container `%s` has no cgroup (a rootless container gets one only where a "
                        "cgroup is delegated to the user)", what, id);
}

static int
set_frozen (const char *root, const char *id, bool frozen, rf_error_t *err)
{
  const char *what = frozen ? "pause" : "resume";
  cleanup_close int lock = -1;
  rf_state_t st;
  rf_status_t status;
  int ret = -1;

  if (open_locked (root, id, &st, &lock, &status, err) < 0)
    return -1;
  if (frozen && status == RF_STATUS_PAUSED)
    rf_error_make (err, EINVAL, "pause: container `%s` is already paused", id);
  else if (frozen && status != RF_STATUS_RUNNING)
    rf_error_make (err, EINVAL, "pause: container `%s` is not running: it is %s", id, rf_status_name (status));
  else if (!frozen && status != RF_STATUS_PAUSED)
    rf_error_make (err, EINVAL, "resume: container `%s` is not paused: it is %s", id, rf_status_name (status));
  else if (st.cgroup.n == 0)
    no_cgroup (what, id, err);
  else if (rf_cgroup_freeze (&st.cgroup, frozen, err) < 0)
    rf_error_wrap (err, "%s container `%s`", what, id);
  else
    ret = 0;
  rf_state_clear (&st);
  return ret;
}

int
rf_container_pause (const char *root, const char *id, rf_error_t *err)
{
  return set_frozen (root, id, true, err);
}

int
rf_container_resume (const char *root, const char *id, rf_error_t *err)
{
  return set_frozen (root, id, false, err);
}

/* runc's update treats 0 and "" as "leave as is"; drop them so that the
   merge below keeps what was set.  (cpu.idle and memory.swappiness, where 0
   is a value, stay.) */
static void
drop_unchanged (json_t *res)
{
  static const char *const sections[] = { "memory", "cpu", "blockIO", "pids" };
  for (size_t i = 0; i < ARRAY_SIZE (sections); i++)
    {
      json_t *obj = json_object_get (res, sections[i]);
      const char *key;
      json_t *v;
      void *tmp;
      if (!json_is_object (obj))
        continue;
      json_object_foreach_safe (obj, tmp, key, v)
        {
          bool zero = (json_is_integer (v) && json_integer_value (v) == 0)
                      || (json_is_string (v) && json_string_length (v) == 0);
          if (zero && strcmp (key, "idle") != 0 && strcmp (key, "swappiness") != 0)
            json_object_del (obj, key);
        }
      if (json_object_size (obj) == 0)
        json_object_del (res, sections[i]);
    }
}

/* Objects merge key by key; anything else replaces. */
static void
merge (json_t *into, json_t *from)
{
  const char *key;
  json_t *v;
  json_object_foreach (from, key, v)
    {
      json_t *old = json_object_get (into, key);
      if (json_is_object (old) && json_is_object (v))
        merge (old, v);
      else
        json_object_set (into, key, v);
    }
}

/* Values that are written together: the kernel checks a memory limit
   against the swap limit (v1) and v2's cpu.max and memory.swap.max hold or
   derive from both of a pair.  When only one of a pair changes, the other
   comes from the merged limits. */
static void
add_pairs (json_t *apply, json_t *merged)
{
  static const char *const pairs[][3] = {
    { "memory", "limit", "swap" },
    { "cpu", "quota", "period" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (pairs); i++)
    {
      json_t *obj = json_object_get (apply, pairs[i][0]);
      json_t *all = json_object_get (merged, pairs[i][0]);
      for (int k = 1; k <= 2 && obj; k++)
        {
          const char *have = pairs[i][k], *other = pairs[i][3 - k];
          if (json_object_get (obj, have) && !json_object_get (obj, other) && json_object_get (all, other))
            json_object_set (obj, other, json_object_get (all, other));
        }
    }
}

static int
save_config (const char *path, json_t *doc, rf_error_t *err)
{
  cleanup_free char *text = json_dumps (doc, JSON_COMPACT);
  if (text == NULL)
    return rf_error_make (err, ENOMEM, "encode `%s`", path);
  return rf_write_file_atomic (path, text, strlen (text), 0644, err);
}

int
rf_container_update (const char *root, const char *id, json_t *resources, rf_error_t *err)
{
  cleanup_free char *config_path = NULL;
  cleanup_json json_t *doc = NULL;
  cleanup_json json_t *update = NULL;
  cleanup_json json_t *merged = NULL;
  cleanup_json json_t *apply = NULL;
  cleanup_close int lock = -1;
  json_t *linux_, *saved, *mem;
  rf_resources_t res;
  rf_state_t st;
  rf_status_t status;
  int ret = -1;

  rf_resources_init (&res);
  if (open_locked (root, id, &st, &lock, &status, err) < 0)
    return -1;
  if (status == RF_STATUS_STOPPED)
    {
      rf_error_make (err, EINVAL, "update: container `%s` is not running", id);
      goto out;
    }
  if (st.cgroup.n == 0)
    {
      no_cgroup ("update", id, err);
      goto out;
    }
  /* The update alone first, so its errors name what the caller gave. */
  if (rf_resources_parse (resources, "linux.resources", &res, err) < 0)
    goto out;
  rf_resources_clear (&res);

  config_path = xasprintf ("%s/%s/config.json", root, id);
  doc = rf_json_load_file (config_path, err);
  if (doc == NULL)
    goto out;
  linux_ = json_object_get (doc, "linux");
  if (!json_is_object (linux_))
    {
      linux_ = json_object ();
      json_object_set_new (doc, "linux", linux_);
    }
  saved = json_object_get (linux_, "resources");
  merged = json_is_object (saved) ? json_deep_copy (saved) : json_object ();

  update = json_deep_copy (resources);
  drop_unchanged (update);
  /* As runc: lifting the memory limit lifts a swap limit set with it. */
  mem = json_object_get (update, "memory");
  if (json_integer_value (json_object_get (mem, "limit")) == -1 && !json_object_get (mem, "swap")
      && json_object_get (json_object_get (merged, "memory"), "swap"))
    json_object_set_new (mem, "swap", json_integer (-1));
  merge (merged, update);
  /* Then the limits as they will be, so that pairs stay consistent. */
  if (rf_resources_parse (merged, "linux.resources", &res, err) < 0)
    goto out;
  rf_resources_clear (&res);

  apply = json_deep_copy (update);
  add_pairs (apply, merged);
  if (rf_resources_parse (apply, "linux.resources", &res, err) < 0)
    goto out;
  /* New device rules replace the old ones, on top of deny-all and the
     default devices as at create; the controller is taken there in the
     fewest writes (cgroup_v1.c), never through "deny everything". */
  if (res.has_devices)
    {
      size_t n;
      rf_device_rule_t *rules = rf_cgroup_device_rules (&res, &n);
      free (res.devices);
      res.devices = rules;
      res.n_devices = n;
    }
  /* systemd first, as runc: what it has a property for stays as set when
     it writes its cgroup files again (at a daemon-reload); then cgroupfs,
     for the rest. */
  if ((st.cgroup.unit && rf_cgroup_systemd_set (&st.cgroup, &res, err) < 0)
      || rf_cgroup_apply (&st.cgroup, &res, st.rootless, err) < 0)
    {
      rf_error_wrap (err, "update container `%s`", id);
      goto out;
    }
  json_object_set (linux_, "resources", merged);
  if (save_config (config_path, doc, err) < 0)
    goto out;
  ret = 0;

out:
  rf_resources_clear (&res);
  rf_state_clear (&st);
  return ret;
}
