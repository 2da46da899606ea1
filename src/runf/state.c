#include <errno.h>
#include <stdio.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "runf.h"
#include "runtime/state.h"
#include "state_json.h"

json_t *
runf_state_json (const char *root, const rf_state_t *st)
{
  rf_status_t status = rf_state_status (root, st);
  json_t *doc = json_pack ("{s:s, s:s, s:i, s:s, s:s, s:s, s:s}",
                           "ociVersion", RUNF_SPEC_VERSION, "id", st->id,
                           "pid", status == RF_STATUS_STOPPED ? 0 : (int) st->pid,
                           "status", rf_status_name (status), "bundle", st->bundle,
                           "rootfs", st->rootfs, "created", st->created);
  json_t *ann = json_object ();
  for (size_t i = 0; st->annotations && st->annotations[i]; i += 2)
    json_object_set_new (ann, st->annotations[i], json_string (st->annotations[i + 1]));
  json_object_set_new (doc, "annotations", ann);
  json_object_set_new (doc, "owner", json_string (runf_owner_name (st->owner)));
  return doc;
}

int
runf_cmd_state (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  cleanup_json json_t *doc = NULL;
  cleanup_free char *text = NULL;
  rf_state_t st;

  int i = runf_plain_args (argc, argv, 1, "one container id", err);
  if (i < 0)
    return -1;
  if (rf_state_read (g->root, argv[i], &st, err) < 0)
    return -1;
  doc = runf_state_json (g->root, &st);
  rf_state_clear (&st);
  text = json_dumps (doc, JSON_INDENT (2));
  puts (text);
  return 0;
}
