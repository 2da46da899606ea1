/* Reading one layer: its compression (gzip, zstd or none, whatever the
 * media type claims), its tar entries checked and applied to the model of
 * the root filesystem (layertree.h), and optionally the digest of the
 * uncompressed stream compared with the image config's diff_id. */
#ifndef RF_IMAGE_LAYER_H
#define RF_IMAGE_LAYER_H

#include <archive.h>
#include <archive_entry.h>

#include "common/error.h"
#include "layertree.h"

typedef struct
{
  /* Called for each entry the model accepted, with the archive positioned
     at the entry's data.  `link` is the clean target of a hard link. */
  int (*entry) (void *ctx, struct archive *a, struct archive_entry *e, const char *path,
                const char *link, rf_node_t *node, rf_tree_action_t action, rf_error_t *err);
  void *ctx;
} rf_layer_sink_t;

/* Apply the layer read from fd.  With diff_id, the uncompressed bytes must
   hash to it.  With sink NULL the entries' data is skipped (a check).
   Errors say what is wrong with which entry; `what` names the layer. */
int rf_layer_apply (rf_layer_tree_t *tree, int fd, const char *what, const char *diff_id,
                    const rf_layer_sink_t *sink, rf_error_t *err);

/* The diff_id a layer's uncompressed bytes must still be checked against:
   NULL for an uncompressed layer whose blob digest is its diff_id (already
   verified when it entered the store). */
const char *rf_layer_diff_id_to_check (int fd, const char *digest, const char *diff_id);

#endif
