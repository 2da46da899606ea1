/* The admin API's OpenFaaS paths that are not about one function:
 * /system/info, /system/namespaces and /system/secrets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <openssl/evp.h>

#include "api.h"
#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "runfd.h"

void
rfd_api_get_info (api_req_t *r, const char *name)
{
  struct utsname u;
  json_t *version = json_pack ("{s:s, s:s}", "sha", "", "release", RFD_VERSION);
  if (uname (&u) < 0)
    strcpy (u.machine, "unknown");
  /* OpenFaaS's GatewayInfo: the provider (runfd) and the gateway (runfd
     too: one program is both). */
  rfd_api_reply_json (r, 200,
                      json_pack ("{s:{s:s, s:s, s:O}, s:o, s:s}", "provider", "provider", "runfd", "orchestration",
                                 "runf", "version", version, "version", version, "arch", u.machine));
}

void
rfd_api_get_namespaces (api_req_t *r, const char *name)
{
  rfd_api_reply_json (r, 200, json_pack ("[s]", rfd_namespace));
}

void
rfd_api_list_secrets (api_req_t *r, const char *name)
{
  rfd_api_reply_json (r, 200, rfd_secrets_list ());
}

/* base64, as Go's encoding/json writes a []byte (rawValue). */
static int
base64_decode (const char *in, size_t len, char **out, size_t *out_len)
{
  size_t pad = 0;
  int n;
  if (len % 4)
    return -1;
  *out = xmalloc (len / 4 * 3 + 1);
  n = EVP_DecodeBlock ((unsigned char *) *out, (const unsigned char *) in, (int) len);
  if (n < 0)
    {
      free (*out);
      *out = NULL;
      return -1;
    }
  while (pad < 2 && pad < len && in[len - 1 - pad] == '=')
    pad++;
  *out_len = (size_t) n - pad;
  return 0;
}

/* OpenFaaS's Secret: {"name", "value"} or {"name", "rawValue": base64};
   "namespace" may name the one there is. */
static void
put_secret (api_req_t *r, bool create)
{
  cleanup_json json_t *doc = rfd_api_body_json (r);
  cleanup_free char *raw = NULL;
  const char *sname, *value, *ns, *key;
  json_t *v;
  size_t len = 0;
  rf_error_t err = NULL;

  if (!json_is_object (doc))
    {
      rfd_api_reply_error (r, 400, "the request body: expected a JSON object");
      return;
    }
  json_object_foreach (doc, key, v)
    if (strcmp (key, "name") != 0 && strcmp (key, "value") != 0 && strcmp (key, "rawValue") != 0
        && strcmp (key, "namespace") != 0)
      {
        cleanup_free char *why = xasprintf ("%.64s: not a field of a secret (name, value, rawValue, namespace)", key);
        rfd_api_reply_error (r, 400, why);
        return;
      }
  sname = json_string_value (json_object_get (doc, "name"));
  value = json_string_value (json_object_get (doc, "value"));
  ns = json_string_value (json_object_get (doc, "namespace"));
  if (sname == NULL)
    {
      rfd_api_reply_error (r, 400, "name: missing (a string)");
      return;
    }
  if (ns && *ns && strcmp (ns, rfd_namespace) != 0)
    {
      cleanup_free char *why = xasprintf ("namespace `%.64s`: runfd has one namespace, %s", ns, rfd_namespace);
      rfd_api_reply_error (r, 400, why);
      return;
    }
  if (json_object_get (doc, "value") && value == NULL)
    {
      rfd_api_reply_error (r, 400, "value: expected a string");
      return;
    }
  if (value)
    len = strlen (value);
  else if (json_is_string (json_object_get (doc, "rawValue")))
    {
      const char *b64 = json_string_value (json_object_get (doc, "rawValue"));
      if (base64_decode (b64, strlen (b64), &raw, &len) < 0)
        {
          rfd_api_reply_error (r, 400, "rawValue: expected base64");
          return;
        }
      value = raw;
    }
  else
    {
      rfd_api_reply_error (r, 400, "value or rawValue: missing (the secret's value)");
      return;
    }
  if (rfd_secret_put (sname, value, len, create, &err) < 0)
    {
      rfd_api_reply_rf_error (r, err);
      return;
    }
  rfd_api_reply_json (r, create ? 201 : 200, json_pack ("{s:s, s:s}", "name", sname, "namespace", rfd_namespace));
}

void
rfd_api_create_secret (api_req_t *r, const char *name)
{
  put_secret (r, true);
}

void
rfd_api_update_secret (api_req_t *r, const char *name)
{
  put_secret (r, false);
}

void
rfd_api_remove_secret (api_req_t *r, const char *name)
{
  cleanup_json json_t *doc = rfd_api_body_json (r);
  const char *sname = json_string_value (json_object_get (doc, "name"));
  rf_error_t err = NULL;
  if (sname == NULL)
    rfd_api_reply_error (r, 400, "name: missing (a string)");
  else if (rfd_secret_remove (sname, &err) < 0)
    rfd_api_reply_rf_error (r, err);
  else
    rfd_api_reply (r, 204, "", "", 0);
}
