#include "tarpath.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "common/cleanup.h"
#include "text.h"

#define WH_PREFIX ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"

static int
refuse (rf_error_t *err, const char *raw, const char *why)
{
  cleanup_free char *shown = rf_printable (raw, 120);
  return rf_error_make (err, 0, "entry `%s`: %s", shown, why);
}

int
rf_tar_path_clean (const char *raw, char **out, rf_error_t *err)
{
  size_t len = strlen (raw);
  cleanup_free char *clean = NULL;
  size_t n = 0;
  const char *p = raw;

  *out = NULL;
  if (len == 0)
    return refuse (err, raw, "empty name");
  if (len >= PATH_MAX)
    return refuse (err, raw, "name too long");
  if (raw[0] == '/')
    return refuse (err, raw, "absolute path");
  clean = xmalloc (len + 1);
  while (*p)
    {
      size_t clen = strcspn (p, "/");
      if (clen == 2 && p[0] == '.' && p[1] == '.')
        return refuse (err, raw, "`..` component");
      if (clen > NAME_MAX)
        return refuse (err, raw, "component longer than 255 bytes");
      if (clen > 0 && !(clen == 1 && p[0] == '.'))
        {
          if (n)
            clean[n++] = '/';
          memcpy (clean + n, p, clen);
          n += clen;
        }
      p += clen;
      while (*p == '/')
        p++;
    }
  clean[n] = '\0';
  *out = steal_pointer (&clean);
  return 0;
}

int
rf_tar_whiteout (const char *clean, rf_whiteout_t *kind, char **target, rf_error_t *err)
{
  const char *slash = strrchr (clean, '/');
  const char *base = slash ? slash + 1 : clean;
  size_t dir_len = slash ? (size_t) (slash - clean) : 0;

  *target = NULL;
  *kind = RF_WHITEOUT_NONE;
  if (strncmp (base, WH_PREFIX, strlen (WH_PREFIX)) != 0)
    return 0;
  if (strcmp (base, WH_OPAQUE) == 0)
    {
      *kind = RF_WHITEOUT_OPAQUE;
      *target = xstrndup (clean, dir_len);
      return 0;
    }
  if (strncmp (base, WH_META_PREFIX, strlen (WH_META_PREFIX)) == 0)
    {
      *kind = RF_WHITEOUT_META;
      return 0;
    }
  base += strlen (WH_PREFIX);
  if (*base == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
    return refuse (err, clean, "whiteout of no name");
  *kind = RF_WHITEOUT_FILE;
  *target = dir_len ? xasprintf ("%.*s/%s", (int) dir_len, clean, base) : xstrdup (base);
  return 0;
}
