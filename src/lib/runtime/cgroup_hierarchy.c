/* Where the host's cgroup hierarchies are (v1 controllers, the v2 mount,
 * hybrid layouts), read from mountinfo, and the grammar of
 * linux.cgroupsPath (a path, a name below runf's own cgroup, runc's
 * systemd form slice:prefix:name): cgroup.h. */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"

bool
rf_cgroup_unified_p (void)
{
  struct statfs sfs;
  return statfs (RF_CGROUP_ROOT, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

/* The controllers of a v1 mount, from its super options. */
static char *
controllers_of (char *sopts)
{
  static const char *const generic[] = {
    "rw", "ro", "clone_children", "noprefix", "xattr", "cpuset_v2_mode", "favordynmods",
  };
  char *out = xstrdup (""), *save = NULL;
  for (char *o = strtok_r (sopts, ",", &save); o; o = strtok_r (NULL, ",", &save))
    {
      bool skip = strncmp (o, "release_agent=", 14) == 0;
      char *joined;
      for (size_t i = 0; i < ARRAY_SIZE (generic); i++)
        if (strcmp (o, generic[i]) == 0)
          skip = true;
      if (skip)
        continue;
      joined = *out ? xasprintf ("%s,%s", out, o) : xstrdup (o);
      free (out);
      out = joined;
    }
  return out;
}

static rf_hierarchy_t *read_hierarchies (size_t *n);

/* A long-lived process that creates many containers (runfd's spawner)
   reads the host's hierarchies once, not from mountinfo for each. */
static struct
{
  bool on, valid;
  rf_hierarchy_t *h;
  size_t n;
} cache;

void
rf_cgroup_cache_hierarchies (void)
{
  cache.on = true;
}

rf_hierarchy_t *
rf_cgroup_hierarchies (size_t *n)
{
  rf_hierarchy_t *h;

  if (!cache.on)
    return read_hierarchies (n);
  if (!cache.valid)
    {
      cache.h = read_hierarchies (&cache.n);
      cache.valid = cache.h != NULL;
      if (!cache.valid)
        return read_hierarchies (n);
    }
  h = xzalloc ((cache.n ? cache.n : 1) * sizeof *h);
  for (size_t i = 0; i < cache.n; i++)
    {
      h[i] = cache.h[i];
      h[i].mountpoint = xstrdup (cache.h[i].mountpoint);
      h[i].controllers = xstrdup (cache.h[i].controllers);
    }
  *n = cache.n;
  return h;
}

/* One line of /proc/self/mountinfo, the fields the hierarchies need. */
struct mount_line
{
  long id, parent;
  const char *mountpoint, *fstype;
  char *sopts;
};

/* The mount a lookup of `path` reaches: the last of those on `path` whose
   parent is `parent` (when -1: whose parent is not itself on `path`),
   then, as long as there is one, the last mounted on top of it (a mount
   over another has the covered one as its parent).  A mount covered on the
   same path, or left below a mount that covers its parent, is never the
   answer: a lookup cannot reach it. */
static const struct mount_line *
reachable_mount (const struct mount_line *m, size_t n, const char *path, long parent)
{
  const struct mount_line *top = NULL;

  for (size_t i = 0; i < n; i++)
    {
      bool parent_on_path = false;
      if (strcmp (m[i].mountpoint, path) != 0)
        continue;
      if (parent == -1)
        for (size_t j = 0; j < n; j++)
          if (m[j].id == m[i].parent && strcmp (m[j].mountpoint, path) == 0)
            parent_on_path = true;
      if (parent == -1 ? !parent_on_path : m[i].parent == parent)
        top = &m[i];
    }
  for (bool climbed = top != NULL; climbed;)
    {
      climbed = false;
      for (size_t i = 0; i < n; i++)
        if (m[i].parent == top->id && &m[i] != top && strcmp (m[i].mountpoint, path) == 0)
          {
            top = &m[i];
            climbed = true;
          }
    }
  return top;
}

static rf_hierarchy_t *
add_hierarchy (rf_hierarchy_t *h, size_t *n, const char *mountpoint, bool v2, char *sopts)
{
  h = xrealloc (h, (*n + 1) * sizeof *h);
  h[*n].mountpoint = xstrdup (mountpoint);
  h[*n].v2 = v2;
  h[*n].controllers = v2 ? xstrdup ("") : controllers_of (sopts);
  (*n)++;
  return h;
}

rf_hierarchy_t *
rf_cgroup_parse_mountinfo (char *text, size_t *n)
{
  cleanup_free struct mount_line *m = NULL;
  const struct mount_line *root;
  rf_hierarchy_t *h = xzalloc (sizeof *h);
  size_t nm = 0;
  char *line, *save = NULL;

  *n = 0;
  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *dash = strstr (line, " - "), *fields[5], *p, *tok, *end;
      struct mount_line ml;
      size_t nf = 0;

      if (dash == NULL)
        continue;
      *dash = '\0';
      for (tok = strtok_r (line, " ", &p); tok && nf < 5; tok = strtok_r (NULL, " ", &p))
        fields[nf++] = tok;
      if (nf < 5)
        continue;
      ml.id = strtol (fields[0], &end, 10);
      if (*end != '\0')
        continue;
      ml.parent = strtol (fields[1], &end, 10);
      if (*end != '\0')
        continue;
      ml.mountpoint = fields[4];
      ml.fstype = strtok_r (dash + 3, " ", &p);
      strtok_r (NULL, " ", &p); /* source */
      ml.sopts = strtok_r (NULL, " ", &p);
      if (ml.fstype == NULL || ml.sopts == NULL)
        continue;
      m = xrealloc (m, (nm + 1) * sizeof *m);
      m[nm++] = ml;
    }

  root = reachable_mount (m, nm, RF_CGROUP_ROOT, -1);
  if (root && strcmp (root->fstype, "cgroup2") == 0)
    return add_hierarchy (h, n, RF_CGROUP_ROOT, true, NULL);
  /* Only what is mounted counts: on a v1 or hybrid host /sys/fs/cgroup is
     a tmpfs where anything (podman, for one) may leave a directory named
     like a controller that is no hierarchy. */
  for (size_t i = 0; i < nm; i++)
    {
      const char *name = m[i].mountpoint + sizeof RF_CGROUP_ROOT;
      bool v2 = strcmp (m[i].fstype, "cgroup2") == 0;
      if ((!v2 && strcmp (m[i].fstype, "cgroup") != 0)
          || strncmp (m[i].mountpoint, RF_CGROUP_ROOT "/", sizeof RF_CGROUP_ROOT) != 0 || *name == '\0'
          || strchr (name, '/')
          || reachable_mount (m, nm, m[i].mountpoint, root ? root->id : -1) != &m[i])
        continue;
      h = add_hierarchy (h, n, m[i].mountpoint, v2, m[i].sopts);
    }
  return h;
}

static rf_hierarchy_t *
read_hierarchies (size_t *n)
{
  cleanup_free char *text = NULL;

  *n = 0;
  if (rf_cgroup_unified_p ())
    {
      rf_hierarchy_t *h = xzalloc (sizeof *h);
      h->mountpoint = xstrdup (RF_CGROUP_ROOT);
      h->controllers = xstrdup ("");
      h->v2 = true;
      *n = 1;
      return h;
    }
  if (rf_read_file_at (AT_FDCWD, "/proc/self/mountinfo", 0, &text, NULL, NULL) < 0)
    return NULL;
  return rf_cgroup_parse_mountinfo (text, n);
}

void
rf_cgroup_hierarchies_free (rf_hierarchy_t *h, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (h[i].mountpoint);
      free (h[i].controllers);
    }
  free (h);
}

char *
rf_cgroup_own_path (const char *controllers)
{
  cleanup_free char *text = NULL;
  char *line, *save = NULL;

  if (rf_read_file_at (AT_FDCWD, "/proc/self/cgroup", 0, &text, NULL, NULL) < 0)
    return xstrdup ("/");
  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *c = strchr (line, ':'), *p;
      if (c == NULL || (p = strchr (c + 1, ':')) == NULL)
        continue;
      *p = '\0';
      if (strcmp (c + 1, controllers) == 0)
        return xstrdup (p + 1);
    }
  return xstrdup ("/");
}

/* "a-b-c.slice" → "/a.slice/a-b.slice/a-b-c.slice", as systemd nests them. */
static int
expand_slice (const char *slice, char **out, rf_error_t *err)
{
  size_t len = strlen (slice);
  char *path = xstrdup ("");

  if (strcmp (slice, "-.slice") == 0)
    {
      *out = path;
      return 0;
    }
  if (len < 7 || strcmp (slice + len - 6, ".slice") != 0 || strchr (slice, '/')
      || slice[0] == '-' || strstr (slice, "--") || slice[len - 7] == '-')
    {
      free (path);
      return rf_error_make (err, 0, "linux.cgroupsPath: `%s` is not a systemd slice name", slice);
    }
  for (size_t i = 0; i <= len - 6; i++)
    if (i == len - 6 || slice[i] == '-')
      {
        char *next = xasprintf ("%s/%.*s.slice", path, (int) i, slice);
        free (path);
        path = next;
      }
  *out = path;
  return 0;
}

char *
rf_cgroup_path_for (const char *cgroups_path, const char *id, bool rootless, rf_error_t *err)
{
  const char *c1, *c2;

  if (cgroups_path == NULL || *cgroups_path == '\0')
    return rootless ? xasprintf ("+runf-%s", id) : xasprintf ("/runf/%s", id);
  if (strstr (cgroups_path, "/../") || strncmp (cgroups_path, "../", 3) == 0
      || (strlen (cgroups_path) >= 3 && strcmp (cgroups_path + strlen (cgroups_path) - 3, "/..") == 0)
      || strcmp (cgroups_path, "..") == 0)
    return rf_error_make (err, 0, "linux.cgroupsPath `%s`: must not contain `..`", cgroups_path), NULL;
  c1 = strchr (cgroups_path, ':');
  c2 = c1 ? strchr (c1 + 1, ':') : NULL;
  if (cgroups_path[0] != '/' && c1 && c2 && !strchr (c2 + 1, ':'))
    {
      /* runc's systemd form "slice:prefix:name": the same place in the
         tree, made through cgroupfs. */
      cleanup_free char *slice = xstrndup (cgroups_path, c1 - cgroups_path);
      cleanup_free char *prefix = xstrndup (c1 + 1, c2 - c1 - 1);
      cleanup_free char *expanded = NULL;
      const char *name = c2 + 1;
      if (*name == '\0' || strchr (name, '/') || strchr (prefix, '/'))
        return rf_error_make (err, 0, "linux.cgroupsPath `%s`: not slice:prefix:name", cgroups_path), NULL;
      if (expand_slice (*slice ? slice : rootless ? "user.slice" : "system.slice", &expanded, err) < 0)
        return NULL;
      if (strlen (name) > 6 && strcmp (name + strlen (name) - 6, ".slice") == 0)
        {
          /* A slice of its own: systemd places it by its name alone
             (a-b.slice in a.slice), whatever the parent says. */
          if (strcmp (name, "-.slice") == 0)
            return rf_error_make (err, 0, "linux.cgroupsPath `%s`: the root slice `-.slice` cannot be a "
                                  "container's own", cgroups_path), NULL;
          free (expanded);
          expanded = NULL;
          if (expand_slice (name, &expanded, err) < 0)
            return NULL;
          return steal_pointer (&expanded);
        }
      return *prefix ? xasprintf ("%s/%s-%s.scope", expanded, prefix, name)
                     : xasprintf ("%s/%s.scope", expanded, name);
    }
  if (cgroups_path[0] == '/')
    return xstrdup (cgroups_path);
  return xasprintf ("+%s", cgroups_path);
}
