#include "reference.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "digest.h"
#include "text.h"

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128

static bool
lower_alnum_p (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*,
   separator := "." | "_" | "__" | "-"+ */
static bool
path_component_valid_p (const char *s, size_t len)
{
  size_t i = 0;
  if (len == 0 || !lower_alnum_p (s[0]) || !lower_alnum_p (s[len - 1]))
    return false;
  while (i < len)
    {
      if (lower_alnum_p (s[i]))
        {
          i++;
          continue;
        }
      if (s[i] == '.' || (s[i] == '_' && s[i + 1] != '_'))
        i++;
      else if (s[i] == '_' && i + 1 < len && s[i + 1] == '_')
        i += 2;
      else if (s[i] == '-')
        while (i < len && s[i] == '-')
          i++;
      else
        return false;
      if (i >= len || !lower_alnum_p (s[i]))
        return false;
    }
  return true;
}

static bool
port_valid_p (const char *s, size_t len)
{
  if (len == 0 || len > 5)
    return false;
  for (size_t i = 0; i < len; i++)
    if (!isdigit ((unsigned char) s[i]))
      return false;
  return true;
}

/* host [":" port], host being dot-separated labels or a bracketed IPv6
   literal. */
static bool
domain_valid_p (const char *s, size_t len)
{
  size_t host_len;
  bool start = true;

  if (len > 0 && s[0] == '[')
    {
      const char *close = memchr (s, ']', len);
      if (close == NULL || close == s + 1)
        return false;
      for (const char *p = s + 1; p < close; p++)
        if (!isxdigit ((unsigned char) *p) && *p != ':')
          return false;
      host_len = close - s + 1;
      if (host_len == len)
        return true;
      return s[host_len] == ':' && port_valid_p (s + host_len + 1, len - host_len - 1);
    }
  host_len = strcspn (s, ":");
  if (host_len > len)
    host_len = len;
  if (host_len == 0)
    return false;
  for (size_t i = 0; i < host_len; i++)
    {
      char c = s[i];
      if (c == '.')
        {
          if (start || s[i - 1] == '-')
            return false;
          start = true;
          continue;
        }
      if (!isalnum ((unsigned char) c) && !(c == '-' && !start))
        return false;
      start = false;
    }
  if (start || s[host_len - 1] == '-')
    return false;
  if (host_len == len)
    return true;
  return port_valid_p (s + host_len + 1, len - host_len - 1);
}

static bool
tag_valid_p (const char *s)
{
  size_t len = strlen (s);
  if (len == 0 || len > TAG_MAX_LEN)
    return false;
  if (!(isalnum ((unsigned char) s[0]) || s[0] == '_'))
    return false;
  for (size_t i = 1; i < len; i++)
    if (!(isalnum ((unsigned char) s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
      return false;
  return true;
}

static int
bad (rf_error_t *err, const char *s, const char *why)
{
  cleanup_free char *shown = rf_printable (s, 120);
  return rf_error_make (err, 0, "reference `%s`: %s", shown, why);
}

int
rf_ref_parse (const char *s, rf_ref_t *out, rf_error_t *err)
{
  cleanup_free char *copy = NULL;
  char *name, *at, *slash, *colon, *p;
  rf_ref_t ref = { 0 };

  memset (out, 0, sizeof *out);
  if (s == NULL || *s == '\0')
    return bad (err, "", "empty");
  copy = xstrdup (s);
  name = copy;

  at = strchr (name, '@');
  if (at)
    {
      *at = '\0';
      if (!rf_digest_valid_p (at + 1))
        {
          rf_error_t why = NULL;
          rf_digest_check (at + 1, &why);
          bad (err, s, why->msg);
          rf_error_free (&why);
          return -1;
        }
      ref.digest = xstrdup (at + 1);
    }

  /* A tag follows the last ':' that comes after the last '/'. */
  slash = strrchr (name, '/');
  colon = strrchr (slash ? slash : name, ':');
  if (colon)
    {
      *colon = '\0';
      if (!tag_valid_p (colon + 1))
        {
          rf_ref_clear (&ref);
          return bad (err, s, "invalid tag");
        }
      ref.tag = xstrdup (colon + 1);
    }

  slash = strchr (name, '/');
  if (slash
      && (memchr (name, '.', slash - name) || memchr (name, ':', slash - name)
          || (slash - name == 9 && strncmp (name, "localhost", 9) == 0)
          || name[0] == '['))
    {
      if (!domain_valid_p (name, slash - name))
        {
          rf_ref_clear (&ref);
          return bad (err, s, "invalid registry name");
        }
      ref.domain = xstrndup (name, slash - name);
      name = slash + 1;
    }
  else
    ref.domain = xstrdup ("docker.io");
  if (strcmp (ref.domain, "index.docker.io") == 0)
    {
      free (ref.domain);
      ref.domain = xstrdup ("docker.io");
    }

  if (*name == '\0')
    {
      rf_ref_clear (&ref);
      return bad (err, s, "missing repository name");
    }
  for (p = name;;)
    {
      char *end = strchr (p, '/');
      size_t len = end ? (size_t) (end - p) : strlen (p);
      if (!path_component_valid_p (p, len))
        {
          rf_ref_clear (&ref);
          return bad (err, s, "invalid repository name (lowercase letters, digits and . _ - separators)");
        }
      if (end == NULL)
        break;
      p = end + 1;
    }
  if (strcmp (ref.domain, "docker.io") == 0 && strchr (name, '/') == NULL)
    ref.path = xasprintf ("library/%s", name);
  else
    ref.path = xstrdup (name);
  if (strlen (ref.domain) + 1 + strlen (ref.path) > NAME_MAX_LEN)
    {
      rf_ref_clear (&ref);
      return bad (err, s, "name longer than 255 characters");
    }
  if (ref.tag == NULL && ref.digest == NULL)
    ref.tag = xstrdup ("latest");
  *out = ref;
  return 0;
}

void
rf_ref_clear (rf_ref_t *ref)
{
  free (ref->domain);
  free (ref->path);
  free (ref->tag);
  free (ref->digest);
  memset (ref, 0, sizeof *ref);
}

char *
rf_ref_string (const rf_ref_t *ref)
{
  return xasprintf ("%s/%s%s%s%s%s", ref->domain, ref->path, ref->tag ? ":" : "",
                    ref->tag ? ref->tag : "", ref->digest ? "@" : "",
                    ref->digest ? ref->digest : "");
}

const char *
rf_ref_api_host (const rf_ref_t *ref)
{
  return strcmp (ref->domain, "docker.io") == 0 ? "registry-1.docker.io" : ref->domain;
}

int
rf_ref_loopback_p (const char *domain)
{
  size_t host_len = strcspn (domain, ":");
  if (domain[0] == '[')
    return strncmp (domain, "[::1]", 5) == 0;
  if (host_len == 9 && strncmp (domain, "localhost", 9) == 0)
    return 1;
  return strncmp (domain, "127.", 4) == 0;
}
