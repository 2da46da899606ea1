/* The model of a root filesystem being built from layers: which paths
 * exist, their type and the layer that last wrote them.  Every decision of
 * layer application is made here (whiteouts, opaque directories, what an
 * entry replaces, which entries are refused), so that checking an image
 * when it enters the store and unpacking it later agree exactly.  The
 * model never has a path below a symlink: an entry whose parent is a
 * symlink (planted by an earlier entry or layer) is refused. */
#ifndef RF_IMAGE_LAYERTREE_H
#define RF_IMAGE_LAYERTREE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/error.h"

typedef enum
{
  RF_NODE_DIR,
  RF_NODE_SYMLINK,
  RF_NODE_OTHER,
} rf_node_type_t;

typedef struct rf_node_s rf_node_t;
struct rf_node_s
{
  rf_node_t *parent, *child, *next, *prev; /* the tree */
  rf_node_t *hnext;                        /* hash chain */
  uint32_t hash;
  uint32_t layer;
  uint8_t type;
  /* A directory's mode and times, applied once every layer is in (as a
     directory's mtime changes while entries are added and a read-only
     mode would stop the additions). */
  bool has_meta;
  uint32_t mode;
  struct timespec atime, mtime;
  char path[]; /* "" for the root */
};

/* What the file system does for the model.  Both may be NULL when only
   checking. */
typedef struct
{
  /* Remove path and everything below it. */
  int (*remove) (void *ctx, const char *path, rf_node_type_t type, rf_error_t *err);
  /* Make a missing parent directory (mode 0755, owned by root). */
  int (*mkdir_parent) (void *ctx, const char *path, rf_error_t *err);
  void *ctx;
} rf_tree_ops_t;

typedef enum
{
  RF_TREE_CREATE, /* nothing is at the path (any old entry was removed): create it */
  RF_TREE_MERGE,  /* a directory over a directory: keep it, update its metadata */
} rf_tree_action_t;

typedef struct rf_layer_tree_s rf_layer_tree_t;

rf_layer_tree_t *rf_layer_tree_new (const rf_tree_ops_t *ops);
void rf_layer_tree_free (rf_layer_tree_t *t);
/* Start the next layer (the first is 1). */
void rf_layer_tree_next_layer (rf_layer_tree_t *t);
rf_node_t *rf_layer_tree_lookup (rf_layer_tree_t *t, const char *path);

/* An entry of the current layer at `path` (clean, see tarpath.h) of a
   type: its parents are made (or found to be directories), what is in the
   way is removed.  The node is recorded; *node points at it. */
int rf_layer_tree_enter (rf_layer_tree_t *t, const char *path, rf_node_type_t type,
                         rf_tree_action_t *action, rf_node_t **node, rf_error_t *err);
/* The target of a hard link: it must exist and not be a directory. */
int rf_layer_tree_link_target (rf_layer_tree_t *t, const char *path, rf_error_t *err);
/* .wh.NAME: remove what lower layers left at path. */
int rf_layer_tree_whiteout (rf_layer_tree_t *t, const char *path, rf_error_t *err);
/* .wh..wh..opq: remove what lower layers left below dir. */
int rf_layer_tree_opaque (rf_layer_tree_t *t, const char *dir, rf_error_t *err);

/* Visit every directory, children before their parents. */
int rf_layer_tree_walk_dirs_post (rf_layer_tree_t *t,
                                  int (*fn) (void *ctx, rf_node_t *dir, rf_error_t *err),
                                  void *ctx, rf_error_t *err);

#endif
