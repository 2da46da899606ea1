#include "layertree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "text.h"

struct rf_layer_tree_s
{
  rf_node_t **buckets;
  size_t n_buckets, n_nodes;
  uint32_t layer;
  rf_node_t *root;
  rf_tree_ops_t ops;
};

static uint32_t
hash_path (const char *s, size_t len)
{
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < len; i++)
    {
      h ^= (unsigned char) s[i];
      h *= 16777619u;
    }
  return h;
}

static rf_node_t *
node_new (const char *path, size_t len, rf_node_type_t type, uint32_t layer)
{
  rf_node_t *n = xzalloc (sizeof *n + len + 1);
  memcpy (n->path, path, len);
  n->path[len] = '\0';
  n->hash = hash_path (path, len);
  n->type = type;
  n->layer = layer;
  return n;
}

static void
rehash (rf_layer_tree_t *t)
{
  size_t n = t->n_buckets ? t->n_buckets * 2 : 1024;
  rf_node_t **b = xzalloc (n * sizeof *b);
  for (size_t i = 0; i < t->n_buckets; i++)
    for (rf_node_t *e = t->buckets[i], *next; e; e = next)
      {
        next = e->hnext;
        e->hnext = b[e->hash & (n - 1)];
        b[e->hash & (n - 1)] = e;
      }
  free (t->buckets);
  t->buckets = b;
  t->n_buckets = n;
}

static rf_node_t *
lookup_len (rf_layer_tree_t *t, const char *path, size_t len)
{
  uint32_t h = hash_path (path, len);
  if (len == 0)
    return t->root;
  for (rf_node_t *e = t->buckets[h & (t->n_buckets - 1)]; e; e = e->hnext)
    if (e->hash == h && strncmp (e->path, path, len) == 0 && e->path[len] == '\0')
      return e;
  return NULL;
}

rf_node_t *
rf_layer_tree_lookup (rf_layer_tree_t *t, const char *path)
{
  return lookup_len (t, path, strlen (path));
}

static void
insert (rf_layer_tree_t *t, rf_node_t *parent, rf_node_t *n)
{
  if (t->n_nodes >= t->n_buckets)
    rehash (t);
  n->hnext = t->buckets[n->hash & (t->n_buckets - 1)];
  t->buckets[n->hash & (t->n_buckets - 1)] = n;
  n->parent = parent;
  n->next = parent->child;
  if (parent->child)
    parent->child->prev = n;
  parent->child = n;
  t->n_nodes++;
}

/* Forget a node and everything below it. */
static void
forget (rf_layer_tree_t *t, rf_node_t *n)
{
  while (n->child)
    forget (t, n->child);
  if (n->parent)
    {
      rf_node_t **slot = &t->buckets[n->hash & (t->n_buckets - 1)];
      while (*slot != n)
        slot = &(*slot)->hnext;
      *slot = n->hnext;
      if (n->prev)
        n->prev->next = n->next;
      else
        n->parent->child = n->next;
      if (n->next)
        n->next->prev = n->prev;
      t->n_nodes--;
    }
  free (n);
}

static int
remove_node (rf_layer_tree_t *t, rf_node_t *n, rf_error_t *err)
{
  if (t->ops.remove && t->ops.remove (t->ops.ctx, n->path, n->type, err) < 0)
    return -1;
  forget (t, n);
  return 0;
}

rf_layer_tree_t *
rf_layer_tree_new (const rf_tree_ops_t *ops)
{
  rf_layer_tree_t *t = xzalloc (sizeof *t);
  if (ops)
    t->ops = *ops;
  rehash (t);
  t->root = node_new ("", 0, RF_NODE_DIR, 0);
  return t;
}

void
rf_layer_tree_free (rf_layer_tree_t *t)
{
  if (t == NULL)
    return;
  while (t->root->child)
    forget (t, t->root->child);
  free (t->root);
  free (t->buckets);
  free (t);
}

void
rf_layer_tree_next_layer (rf_layer_tree_t *t)
{
  t->layer++;
}

static int
refuse (rf_error_t *err, const char *entry, const char *what, size_t len, const char *why)
{
  cleanup_free char *e = rf_printable (entry, 120);
  cleanup_free char *copy = xstrndup (what, len);
  cleanup_free char *w = rf_printable (copy, 120);
  return rf_error_make (err, 0, "entry `%s`: %s `%s`", e, why, w);
}

/* The directory node for the first len bytes of path.  With `make`, missing
   directories are created (as a tar without directory entries needs);
   without, a missing one gives NULL and no error.  A symlink or a file on
   the way is an error. */
static int
parent_dir (rf_layer_tree_t *t, const char *entry, const char *path, size_t len, bool make,
            rf_node_t **out, rf_error_t *err)
{
  rf_node_t *n = lookup_len (t, path, len), *up = NULL;
  const char *slash;

  *out = NULL;
  if (n)
    {
      if (n->type == RF_NODE_SYMLINK)
        return refuse (err, entry, path, len, "goes through the symlink");
      if (n->type != RF_NODE_DIR)
        return refuse (err, entry, path, len, "goes through the non-directory");
      *out = n;
      return 0;
    }
  slash = memrchr (path, '/', len);
  if (parent_dir (t, entry, path, slash ? (size_t) (slash - path) : 0, make, &up, err) < 0)
    return -1;
  if (up == NULL || !make)
    return 0;
  n = node_new (path, len, RF_NODE_DIR, t->layer);
  if (t->ops.mkdir_parent && t->ops.mkdir_parent (t->ops.ctx, n->path, err) < 0)
    {
      free (n);
      return -1;
    }
  insert (t, up, n);
  *out = n;
  return 0;
}

static size_t
dir_len (const char *path)
{
  const char *slash = strrchr (path, '/');
  return slash ? (size_t) (slash - path) : 0;
}

int
rf_layer_tree_enter (rf_layer_tree_t *t, const char *path, rf_node_type_t type,
                     rf_tree_action_t *action, rf_node_t **node, rf_error_t *err)
{
  rf_node_t *parent, *n;
  size_t len = strlen (path);

  if (len == 0)
    {
      /* The root itself ("./"): only a directory may stand there. */
      if (type != RF_NODE_DIR)
        return rf_error_make (err, 0, "entry `.`: the root must be a directory");
      t->root->layer = t->layer;
      *action = RF_TREE_MERGE;
      *node = t->root;
      return 0;
    }
  if (parent_dir (t, path, path, dir_len (path), true, &parent, err) < 0)
    return -1;
  n = lookup_len (t, path, len);
  if (n && n->type == RF_NODE_DIR && type == RF_NODE_DIR)
    {
      n->layer = t->layer;
      *action = RF_TREE_MERGE;
      *node = n;
      return 0;
    }
  if (n && remove_node (t, n, err) < 0)
    return -1;
  n = node_new (path, len, type, t->layer);
  insert (t, parent, n);
  *action = RF_TREE_CREATE;
  *node = n;
  return 0;
}

int
rf_layer_tree_link_target (rf_layer_tree_t *t, const char *path, rf_error_t *err)
{
  rf_node_t *parent, *n;
  if (parent_dir (t, path, path, dir_len (path), false, &parent, err) < 0)
    return -1;
  n = rf_layer_tree_lookup (t, path);
  if (n == NULL)
    {
      cleanup_free char *shown = rf_printable (path, 120);
      return rf_error_make (err, 0, "hard link target `%s`: no such file in the layers so far",
                            shown);
    }
  if (n->type == RF_NODE_DIR)
    {
      cleanup_free char *shown = rf_printable (path, 120);
      return rf_error_make (err, 0, "hard link target `%s`: a directory", shown);
    }
  return 0;
}

int
rf_layer_tree_whiteout (rf_layer_tree_t *t, const char *path, rf_error_t *err)
{
  rf_node_t *parent, *n;
  if (parent_dir (t, path, path, dir_len (path), false, &parent, err) < 0)
    return -1;
  n = parent ? rf_layer_tree_lookup (t, path) : NULL;
  /* A whiteout hides only what lower layers have: an entry of its own
     layer stays (OCI image spec, "Whiteouts"). */
  if (n == NULL || n->layer == t->layer)
    return 0;
  return remove_node (t, n, err);
}

static int
clear_lower (rf_layer_tree_t *t, rf_node_t *dir, rf_error_t *err)
{
  rf_node_t *c = dir->child, *next;
  for (; c; c = next)
    {
      next = c->next;
      if (c->layer < t->layer)
        {
          if (remove_node (t, c, err) < 0)
            return -1;
        }
      else if (c->type == RF_NODE_DIR && clear_lower (t, c, err) < 0)
        return -1;
    }
  return 0;
}

int
rf_layer_tree_opaque (rf_layer_tree_t *t, const char *dir, rf_error_t *err)
{
  rf_node_t *n;
  size_t len = strlen (dir);
  if (parent_dir (t, dir, dir, len, false, &n, err) < 0)
    return -1;
  if (n == NULL)
    return 0;
  return clear_lower (t, n, err);
}

static int
walk_post (rf_node_t *n, int (*fn) (void *, rf_node_t *, rf_error_t *), void *ctx,
           rf_error_t *err)
{
  for (rf_node_t *c = n->child; c; c = c->next)
    if (c->type == RF_NODE_DIR && walk_post (c, fn, ctx, err) < 0)
      return -1;
  return fn (ctx, n, err);
}

int
rf_layer_tree_walk_dirs_post (rf_layer_tree_t *t,
                              int (*fn) (void *ctx, rf_node_t *dir, rf_error_t *err),
                              void *ctx, rf_error_t *err)
{
  return walk_post (t->root, fn, ctx, err);
}
