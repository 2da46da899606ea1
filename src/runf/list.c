#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "runf.h"
#include "runtime/state.h"
#include "state_json.h"

enum { O_QUIET = 1, O_FORMAT };

static const runf_option_t options[] = {
  { "quiet", 'q', false, O_QUIET },
  { "format", 'f', true, O_FORMAT },
  { 0 },
};

const char *
runf_owner_name (uid_t uid)
{
  static char buf[64];
  struct passwd *pw = getpwuid (uid);
  if (pw && strlen (pw->pw_name) < sizeof buf)
    snprintf (buf, sizeof buf, "%s", pw->pw_name);
  else
    snprintf (buf, sizeof buf, "#%u", (unsigned) uid);
  return buf;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The ids in the state root, sorted. */
static char **
list_ids (const char *root, size_t *n)
{
  DIR *dir = opendir (root);
  struct dirent *de;
  char **ids = NULL;
  size_t cap = 0;

  *n = 0;
  if (dir == NULL)
    return NULL;
  while ((de = readdir (dir)) != NULL)
    {
      if (!rf_id_valid_p (de->d_name) || de->d_type != DT_DIR)
        continue;
      if (*n + 1 >= cap)
        {
          cap = cap ? cap * 2 : 16;
          ids = xrealloc (ids, cap * sizeof (char *));
        }
      ids[(*n)++] = xstrdup (de->d_name);
      ids[*n] = NULL;
    }
  closedir (dir);
  if (*n > 1)
    qsort (ids, *n, sizeof (char *), compare_names);
  return ids;
}

/* Columns as Go's tabwriter lays out runc's table: at least 12 wide, and
   3 spaces after the longest cell. */
static void
print_table (char ***rows, size_t n_rows, size_t n_cols)
{
  size_t width[8] = { 0 };
  for (size_t r = 0; r < n_rows; r++)
    for (size_t c = 0; c < n_cols; c++)
      {
        size_t w = strlen (rows[r][c]) + 3;
        if (w > width[c])
          width[c] = w < 12 ? 12 : w;
      }
  for (size_t r = 0; r < n_rows; r++)
    {
      for (size_t c = 0; c < n_cols; c++)
        {
          if (c + 1 < n_cols)
            printf ("%-*s", (int) width[c], rows[r][c]);
          else
            printf ("%s", rows[r][c]);
        }
      putchar ('\n');
    }
}

int
runf_cmd_list (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  const char *value, *format = "table";
  bool quiet = false;
  int index = 1, id;
  size_t n;
  cleanup_strv char **ids = NULL;

  while ((id = runf_next_option (argc, argv, &index, options, &value, err)) > 0)
    if (id == O_QUIET)
      quiet = strcmp (value, "true") == 0;
    else
      format = value;
  if (id < 0)
    return -1;
  if (index < argc)
    return rf_error_make (err, 0, "list: unexpected argument `%s`", argv[index]);
  if (strcmp (format, "table") != 0 && strcmp (format, "json") != 0)
    return rf_error_make (err, 0, "list: --format `%s`: expected table or json", format);

  ids = list_ids (g->root, &n);
  if (quiet)
    {
      for (size_t i = 0; i < n; i++)
        puts (ids[i]);
      return 0;
    }
  if (strcmp (format, "json") == 0)
    {
      cleanup_json json_t *arr = json_array ();
      cleanup_free char *text = NULL;
      for (size_t i = 0; i < n; i++)
        {
          rf_state_t st;
          if (rf_state_read (g->root, ids[i], &st, NULL) < 0)
            continue;
          json_array_append_new (arr, runf_state_json (g->root, &st));
          rf_state_clear (&st);
        }
      text = json_dumps (arr, JSON_COMPACT);
      puts (text);
      return 0;
    }
  {
    char ***rows = xzalloc ((n + 1) * sizeof (char **));
    static char *header[] = { "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER" };
    size_t n_rows = 1;
    rows[0] = header;
    for (size_t i = 0; i < n; i++)
      {
        rf_state_t st;
        rf_status_t status;
        char **row;
        if (rf_state_read (g->root, ids[i], &st, NULL) < 0)
          continue;
        status = rf_state_status (g->root, &st);
        row = xzalloc (7 * sizeof (char *));
        row[0] = xstrdup (st.id);
        row[1] = xasprintf ("%d", status == RF_STATUS_STOPPED ? 0 : (int) st.pid);
        row[2] = xstrdup (rf_status_name (status));
        row[3] = xstrdup (st.bundle);
        row[4] = xstrdup (st.created);
        row[5] = xstrdup (runf_owner_name (st.owner));
        rows[n_rows++] = row;
        rf_state_clear (&st);
      }
    print_table (rows, n_rows, 6);
    for (size_t r = 1; r < n_rows; r++)
      strv_free (rows[r]);
    free (rows);
  }
  return 0;
}
