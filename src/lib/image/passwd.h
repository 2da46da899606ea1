/* The image's User field ("name", "uid", "name:group", "uid:gid", ...)
 * resolved against the image's own /etc/passwd and /etc/group, as a
 * runtime would do it inside the container. */
#ifndef RF_IMAGE_PASSWD_H
#define RF_IMAGE_PASSWD_H

#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

typedef struct
{
  uid_t uid;
  gid_t gid;
  gid_t *groups; /* supplementary groups from /etc/group */
  size_t n_groups;
  char *home; /* NULL when passwd has no entry */
} rf_exec_user_t;

/* passwd and group are the files' contents, NULL when the image has none. */
int rf_user_resolve (const char *user, const char *passwd, const char *group,
                     rf_exec_user_t *out, rf_error_t *err);
void rf_exec_user_clear (rf_exec_user_t *u);

#endif
