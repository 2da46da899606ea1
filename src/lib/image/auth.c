#include "auth.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "reference.h"
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

/* legacy: ~/.dockercfg, whose entries are at the top level. */
static int
lookup_file (const char *file, bool must_exist, bool legacy, const char *domain, const char *path,
             char **user, char **pass, rf_error_t *err)
{
  cleanup_json json_t *doc = NULL;
  json_t *auths;
  if (access (file, F_OK) < 0 && !must_exist)
    return 0;
  doc = rf_json_load_file (file, err);
  if (doc == NULL)
    return rf_error_wrap (err, "auth file");
  auths = legacy ? doc : json_object_get (doc, "auths");
  if (!json_is_object (auths))
    return 0;
  return lookup_in (auths, domain, path, user, pass);
}

char *
rf_auth_file_given (void)
{
  const char *env = getenv ("REGISTRY_AUTH_FILE");
  return env && *env ? xstrdup (env) : NULL;
}

char *
rf_auth_file_default (void)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR");
  if (xdg && *xdg)
    return xasprintf ("%s/containers/auth.json", xdg);
  return xasprintf ("/run/containers/%d/auth.json", (int) getuid ());
}

char *
rf_auth_file_docker (void)
{
  const char *dir = getenv ("DOCKER_CONFIG"), *home = getenv ("HOME");
  if (dir && *dir)
    return xasprintf ("%s/config.json", dir);
  return xasprintf ("%s/.docker/config.json", home && *home ? home : "/");
}

int
rf_creds_lookup (const char *authfile, const char *domain, const char *path, char **user,
                 char **pass, rf_error_t *err)
{
  cleanup_free char *given = authfile ? xstrdup (authfile) : rf_auth_file_given ();
  const char *config = getenv ("XDG_CONFIG_HOME"), *home = getenv ("HOME");
  char *files[4] = { NULL };
  int r = 0;

  *user = *pass = NULL;
  /* As containers/image reads them: a file the user names is the only
     one; otherwise podman's, then the per-user one, then docker's. */
  /* --authfile must exist; $REGISTRY_AUTH_FILE names where login will
     write, so a missing one just holds nothing yet. */
  if (given)
    return lookup_file (given, authfile != NULL, false, domain, path, user, pass, err) < 0 ? -1 : 0;
  files[0] = rf_auth_file_default ();
  if (config && *config == '/')
    files[1] = xasprintf ("%s/containers/auth.json", config);
  else if (home && *home)
    files[1] = xasprintf ("%s/.config/containers/auth.json", home);
  files[2] = rf_auth_file_docker ();
  if (home && *home)
    files[3] = xasprintf ("%s/.dockercfg", home);
  for (size_t i = 0; i < 4 && r == 0; i++)
    if (files[i])
      r = lookup_file (files[i], false, i == 3, domain, path, user, pass, err);
  for (size_t i = 0; i < 4; i++)
    free (files[i]);
  return r < 0 ? -1 : 0;
}

int
rf_auth_key (const char *registry, char **key, rf_error_t *err)
{
  cleanup_free char *shown = rf_printable (registry, 120);
  cleanup_free char *k = NULL;
  cleanup_free char *probe = NULL;
  size_t n;
  rf_ref_t ref;
  bool ok;

  if (strncmp (registry, "https://", 8) == 0)
    registry += 8;
  else if (strncmp (registry, "http://", 7) == 0)
    registry += 7;
  k = xstrdup (registry);
  n = strlen (k);
  while (n > 0 && k[n - 1] == '/')
    k[--n] = '\0';
  if (n >= 4 && strcmp (k + n - 3, "/v1") == 0)
    k[n -= 3] = '\0';
  else if (n >= 4 && strcmp (k + n - 3, "/v2") == 0)
    k[n -= 3] = '\0';
  if (strcmp (k, "index.docker.io") == 0 || strcmp (k, "registry-1.docker.io") == 0)
    {
      free (k);
      k = xstrdup ("docker.io");
    }
  /* A registry (host with a dot or a port, or localhost), optionally with
     a repository path: whatever a reference would not send there is
     refused, since its credentials would never be used. */
  probe = strchr (k, '/') ? xstrdup (k) : xasprintf ("%s/x", k);
  ok = rf_ref_parse (probe, &ref, NULL) == 0;
  if (ok)
    {
      size_t dlen = strlen (ref.domain);
      ok = strncmp (k, ref.domain, dlen) == 0 && (k[dlen] == '\0' || k[dlen] == '/')
           && (strcmp (ref.domain, "docker.io") != 0 || strncmp (k, "docker.io", 9) == 0)
           && ref.tag && strcmp (ref.tag, "latest") == 0 && ref.digest == NULL;
      rf_ref_clear (&ref);
    }
  if (!ok || n == 0)
    return rf_error_make (err, 0, "registry `%s`: expected a host with a dot or a port, or "
                                  "localhost (and optionally /repository)", shown);
  *key = steal_pointer (&k);
  return 0;
}

static int
load_for_update (const char *file, json_t **doc, json_t **auths, rf_error_t *err)
{
  if (access (file, F_OK) < 0)
    *doc = json_object ();
  else if ((*doc = rf_json_load_file (file, err)) == NULL)
    return rf_error_wrap (err, "auth file");
  else if (!json_is_object (*doc))
    {
      json_decref (*doc);
      *doc = NULL;
      return rf_error_make (err, 0, "auth file `%s`: not a JSON object", file);
    }
  *auths = json_object_get (*doc, "auths");
  if (*auths == NULL)
    json_object_set_new (*doc, "auths", *auths = json_object ());
  else if (!json_is_object (*auths))
    {
      json_decref (*doc);
      *doc = NULL;
      return rf_error_make (err, 0, "auth file `%s`: auths: not a JSON object", file);
    }
  return 0;
}

/* The file's directory is made 0700 and the file written 0600 (through a
   rename): it holds passwords. */
static int
write_auth_file (const char *file, json_t *doc, rf_error_t *err)
{
  cleanup_free char *dir = xstrdup (file);
  cleanup_free char *text = json_dumps (doc, JSON_INDENT (8));
  char *slash = strrchr (dir, '/');
  cleanup_free char *with_newline = xasprintf ("%s\n", text);
  if (slash && slash != dir)
    {
      *slash = '\0';
      if (rf_mkdir_p (dir, 0700, err) < 0)
        return rf_error_wrap (err, "auth file `%s`", file);
    }
  if (rf_write_file_atomic (file, with_newline, strlen (with_newline), 0600, err) < 0)
    return rf_error_wrap (err, "auth file");
  return 0;
}

int
rf_auth_store (const char *file, const char *key, const char *user, const char *pass,
               rf_error_t *err)
{
  cleanup_json json_t *doc = NULL;
  cleanup_free char *basic = rf_basic_auth (user, pass);
  json_t *auths;
  if (load_for_update (file, &doc, &auths, err) < 0)
    return -1;
  json_object_set_new (auths, key, json_pack ("{s:s}", "auth", basic + 6));
  return write_auth_file (file, doc, err);
}

int
rf_auth_remove (const char *file, const char *key, bool *found, rf_error_t *err)
{
  cleanup_json json_t *doc = NULL;
  json_t *auths, *value;
  const char *k;
  void *tmp;

  *found = false;
  if (access (file, F_OK) < 0)
    return 0;
  if (load_for_update (file, &doc, &auths, err) < 0)
    return -1;
  json_object_foreach_safe (auths, tmp, k, value)
    if (key == NULL || strcmp (k, key) == 0
        || (strchr (key, '/') == NULL && host_key_p (k, key)))
      {
        json_object_del (auths, k);
        *found = true;
      }
  if (!*found)
    return 0;
  return write_auth_file (file, doc, err);
}
