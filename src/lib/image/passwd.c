#include "passwd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "text.h"

#define MAX_ID 4294967294ULL /* (uid_t) -1 means "no change" to the kernel */

/* The fields of one line split at ':'; the line is modified. */
static size_t
split_fields (char *line, char **fields, size_t max)
{
  size_t n = 0;
  char *p = line;
  while (n < max)
    {
      fields[n++] = p;
      p = strchr (p, ':');
      if (p == NULL)
        break;
      *p++ = '\0';
    }
  return n;
}

/* Calls fn for each well-formed line of a passwd or group file until it
   returns non-zero. */
static int
each_line (const char *text, size_t min_fields,
           int (*fn) (char **fields, size_t n, void *ctx), void *ctx)
{
  cleanup_free char *copy = text ? xstrdup (text) : NULL;
  char *line, *save = NULL;
  if (copy == NULL)
    return 0;
  for (line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *fields[8];
      size_t n;
      int r;
      if (*line == '#' || *line == '\0')
        continue;
      n = split_fields (line, fields, 8);
      if (n < min_fields)
        continue;
      if ((r = fn (fields, n, ctx)) != 0)
        return r;
    }
  return 0;
}

typedef struct
{
  const char *name; /* match by name, or */
  unsigned long long id; /* by id when name is NULL */
  unsigned long long uid, gid;
  char *home;
  char *found_name;
} pw_query_t;

static int
pw_match (char **f, size_t n, void *ctx)
{
  pw_query_t *q = ctx;
  unsigned long long uid, gid;
  if (rf_parse_uint64 (f[2], MAX_ID, &uid) < 0 || rf_parse_uint64 (f[3], MAX_ID, &gid) < 0)
    return 0;
  if (q->name ? strcmp (f[0], q->name) != 0 : uid != q->id)
    return 0;
  q->uid = uid;
  q->gid = gid;
  q->home = n > 5 ? xstrdup (f[5]) : NULL;
  q->found_name = xstrdup (f[0]);
  return 1;
}

typedef struct
{
  const char *name;
  unsigned long long gid;
  bool found;
} gr_query_t;

static int
gr_match (char **f, size_t n, void *ctx)
{
  gr_query_t *q = ctx;
  unsigned long long gid;
  if (rf_parse_uint64 (f[2], MAX_ID, &gid) < 0 || strcmp (f[0], q->name) != 0)
    return 0;
  q->gid = gid;
  q->found = true;
  return 1;
}

typedef struct
{
  const char *user;
  gid_t primary;
  rf_exec_user_t *out;
} member_query_t;

static int
gr_member (char **f, size_t n, void *ctx)
{
  member_query_t *q = ctx;
  unsigned long long gid;
  char *save = NULL, *m;
  if (n < 4 || rf_parse_uint64 (f[2], MAX_ID, &gid) < 0 || gid == q->primary)
    return 0;
  for (m = strtok_r (f[3], ",", &save); m; m = strtok_r (NULL, ",", &save))
    if (strcmp (m, q->user) == 0)
      {
        for (size_t i = 0; i < q->out->n_groups; i++)
          if (q->out->groups[i] == gid)
            return 0;
        q->out->groups = xrealloc (q->out->groups, (q->out->n_groups + 1) * sizeof (gid_t));
        q->out->groups[q->out->n_groups++] = (gid_t) gid;
        return 0;
      }
  return 0;
}

void
rf_exec_user_clear (rf_exec_user_t *u)
{
  free (u->groups);
  free (u->home);
  memset (u, 0, sizeof *u);
}

int
rf_user_resolve (const char *user, const char *passwd, const char *group, rf_exec_user_t *out,
                 rf_error_t *err)
{
  cleanup_free char *copy = xstrdup (user && *user ? user : "0");
  cleanup_free char *shown = rf_printable (user, 80);
  char *grp = strchr (copy, ':');
  pw_query_t pq = { 0 };
  unsigned long long id;

  memset (out, 0, sizeof *out);
  if (grp)
    *grp++ = '\0';
  if (*copy == '\0' || (grp && *grp == '\0'))
    return rf_error_make (err, 0, "config.User `%s`: malformed", shown);

  if (rf_parse_uint64 (copy, MAX_ID, &id) == 0)
    {
      pq.id = id;
      if (each_line (passwd, 4, pw_match, &pq) == 0)
        {
          /* A numeric user need not exist: it runs with group 0. */
          pq.uid = id;
          pq.gid = 0;
        }
    }
  else
    {
      pq.name = copy;
      if (each_line (passwd, 4, pw_match, &pq) == 0)
        return rf_error_make (err, 0, "config.User `%s`: no such user in the image's /etc/passwd",
                              shown);
    }
  out->uid = (uid_t) pq.uid;
  out->gid = (gid_t) pq.gid;
  out->home = pq.home;

  if (grp)
    {
      if (rf_parse_uint64 (grp, MAX_ID, &id) == 0)
        out->gid = (gid_t) id;
      else
        {
          gr_query_t gq = { .name = grp };
          each_line (group, 3, gr_match, &gq);
          if (!gq.found)
            {
              free (pq.found_name);
              rf_exec_user_clear (out);
              return rf_error_make (err, 0,
                                    "config.User `%s`: no such group in the image's /etc/group", shown);
            }
          out->gid = (gid_t) gq.gid;
        }
    }
  if (pq.found_name)
    {
      member_query_t mq = { .user = pq.found_name, .primary = out->gid, .out = out };
      each_line (group, 4, gr_member, &mq);
      free (pq.found_name);
    }
  return 0;
}
