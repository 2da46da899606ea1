#include "auth.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "text.h"

void
rf_challenge_clear (rf_challenge_t *c)
{
  free (c->scheme);
  free (c->realm);
  free (c->service);
  free (c->scope);
  memset (c, 0, sizeof *c);
}

/* auth-param = token "=" ( token / quoted-string ), comma separated. */
int
rf_challenge_parse (const char *header, rf_challenge_t *out, rf_error_t *err)
{
  const char *p = header;
  size_t n;

  memset (out, 0, sizeof *out);
  while (*p == ' ' || *p == '\t')
    p++;
  n = strcspn (p, " \t");
  if (n == 0)
    return rf_error_make (err, 0, "an empty WWW-Authenticate challenge");
  out->scheme = xstrndup (p, n);
  p += n;
  for (;;)
    {
      cleanup_free char *key = NULL;
      char *value;
      size_t vlen = 0;

      while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
      if (*p == '\0')
        break;
      n = strcspn (p, "= \t,");
      if (n == 0 || p[n] != '=')
        goto bad;
      key = xstrndup (p, n);
      p += n + 1;
      value = xmalloc (strlen (p) + 1);
      if (*p == '"')
        {
          p++;
          while (*p && *p != '"')
            {
              if (*p == '\\' && p[1])
                p++;
              value[vlen++] = *p++;
            }
          if (*p != '"')
            {
              free (value);
              goto bad;
            }
          p++;
        }
      else
        while (*p && *p != ',' && *p != ' ' && *p != '\t')
          value[vlen++] = *p++;
      value[vlen] = '\0';
      if (strcasecmp (key, "realm") == 0 && out->realm == NULL)
        out->realm = value;
      else if (strcasecmp (key, "service") == 0 && out->service == NULL)
        out->service = value;
      else if (strcasecmp (key, "scope") == 0 && out->scope == NULL)
        out->scope = value;
      else
        free (value);
    }
  if (strcasecmp (out->scheme, "Bearer") == 0)
    {
      if (out->realm == NULL || (strncmp (out->realm, "https://", 8) != 0
                                 && strncmp (out->realm, "http://", 7) != 0))
        {
          rf_challenge_clear (out);
          return rf_error_make (err, 0, "the registry's Bearer challenge has no http(s) realm");
        }
      return 0;
    }
  if (strcasecmp (out->scheme, "Basic") == 0)
    return 0;
  {
    cleanup_free char *shown = rf_printable (out->scheme, 40);
    rf_challenge_clear (out);
    return rf_error_make (err, 0, "the registry asks for `%s` authentication, which runfctl does not speak",
                          shown);
  }
bad:
  rf_challenge_clear (out);
  return rf_error_make (err, 0, "a malformed WWW-Authenticate challenge");
}

int
rf_creds_parse (const char *s, char **user, char **pass, rf_error_t *err)
{
  const char *colon = strchr (s, ':');
  if (colon == NULL || colon == s)
    return rf_error_make (err, 0, "--creds: expected USER:PASSWORD");
  *user = xstrndup (s, colon - s);
  *pass = xstrdup (colon + 1);
  return 0;
}

char *
rf_basic_auth (const char *user, const char *pass)
{
  cleanup_free char *plain = xasprintf ("%s:%s", user, pass);
  size_t len = strlen (plain);
  char *out = xmalloc (6 + 4 * ((len + 2) / 3) + 1);
  memcpy (out, "Basic ", 6);
  EVP_EncodeBlock ((unsigned char *) out + 6, (const unsigned char *) plain, (int) len);
  return out;
}

/* An auths entry's "auth": base64 of user:pass. */
static int
decode_auth (const char *b64, char **user, char **pass)
{
  size_t len = strlen (b64);
  cleanup_free unsigned char *plain = xmalloc (len + 1);
  int n, pad = 0;
  char *colon;

  if (len == 0 || len % 4)
    return -1;
  n = EVP_DecodeBlock (plain, (const unsigned char *) b64, (int) len);
  if (n < 0)
    return -1;
  while (len > 0 && b64[len - 1] == '=' && pad < 2)
    len--, pad++;
  n -= pad;
  plain[n] = '\0';
  colon = strchr ((char *) plain, ':');
  if (colon == NULL || memchr (plain, '\0', n))
    return -1;
  *user = xstrndup ((char *) plain, colon - (char *) plain);
  *pass = xstrdup (colon + 1);
  return 0;
}

/* The keys a registry's credentials may be stored under, most specific
   first: "host/repo/path", ..., "host", and the URL forms docker uses. */
static int
auth_entry (json_t *entry, char **user, char **pass)
{
  const char *auth = json_string_value (json_object_get (entry, "auth"));
  return auth && decode_auth (auth, user, pass) == 0;
}

/* Whether an auths key names the registry itself: "host", "https://host",
   "http://host/v1/" and so on; docker.io's are index.docker.io's. */
static bool
host_key_p (const char *key, const char *domain)
{
  const char *k = key, *rest;
  size_t dlen = strlen (domain);
  if (strncmp (k, "https://", 8) == 0)
    k += 8;
  else if (strncmp (k, "http://", 7) == 0)
    k += 7;
  if (strcmp (domain, "docker.io") == 0 && strncmp (k, "index.docker.io", 15) == 0)
    rest = k + 15;
  else if (strncmp (k, domain, dlen) == 0)
    rest = k + dlen;
  else
    return false;
  return *rest == '\0' || strcmp (rest, "/") == 0 || strcmp (rest, "/v1/") == 0
         || strcmp (rest, "/v2/") == 0;
}

/* Entries for "host/org/repo", then "host/org" (containers-auth.json's
   namespaces), then for the host. */
static int
lookup_in (json_t *auths, const char *domain, const char *path, char **user, char **pass)
{
  cleanup_free char *key = xasprintf ("%s/%s", domain, path);
  size_t dlen = strlen (domain);
  const char *k;
  json_t *value;

  for (;;)
    {
      char *slash;
      if (auth_entry (json_object_get (auths, key), user, pass))
        return 1;
      slash = strrchr (key, '/');
      if (slash == NULL || (size_t) (slash - key) <= dlen)
        break;
      *slash = '\0';
    }
  json_object_foreach (auths, k, value)
    if (host_key_p (k, domain) && auth_entry (value, user, pass))
      return 1;
  return 0;
}

static int
lookup_file (const char *file, bool must_exist, const char *domain, const char *path, char **user,
             char **pass, rf_error_t *err)
{
  cleanup_json json_t *doc = NULL;
  json_t *auths;
  if (access (file, F_OK) < 0 && !must_exist)
    return 0;
  doc = rf_json_load_file (file, err);
  if (doc == NULL)
    return rf_error_wrap (err, "auth file");
  auths = json_object_get (doc, "auths");
  if (!json_is_object (auths))
    return 0;
  return lookup_in (auths, domain, path, user, pass);
}

int
rf_creds_lookup (const char *authfile, const char *domain, const char *path, char **user,
                 char **pass, rf_error_t *err)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR"), *home = getenv ("HOME");
  int r;

  *user = *pass = NULL;
  if (authfile)
    return lookup_file (authfile, true, domain, path, user, pass, err) < 0 ? -1 : 0;
  if (xdg && *xdg)
    {
      cleanup_free char *f = xasprintf ("%s/containers/auth.json", xdg);
      if ((r = lookup_file (f, false, domain, path, user, pass, err)) != 0)
        return r < 0 ? -1 : 0;
    }
  if (home && *home)
    {
      cleanup_free char *f = xasprintf ("%s/.docker/config.json", home);
      if (lookup_file (f, false, domain, path, user, pass, err) < 0)
        return -1;
    }
  return 0;
}
