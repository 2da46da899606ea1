#include "jsonutil.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cleanup.h"

json_t *
rf_json_load_file (const char *path, rf_error_t *err)
{
  json_error_t jerr;
  json_t *j = json_load_file (path, JSON_REJECT_DUPLICATES, &jerr);
  if (j == NULL)
    {
      if (jerr.line <= 0 && access (path, R_OK) < 0)
        return rf_error_sys (err, "open `%s`", path), NULL;
      rf_error_make (err, 0, "%s:%d:%d: malformed JSON: %s", path, jerr.line,
                     jerr.column, jerr.text);
      return NULL;
    }
  return j;
}

json_t *
rf_json_load_buffer (const char *name, const char *buf, size_t len,
                     rf_error_t *err)
{
  json_error_t jerr;
  json_t *j = json_loadb (buf, len, JSON_REJECT_DUPLICATES, &jerr);
  if (j == NULL)
    rf_error_make (err, 0, "%s:%d:%d: malformed JSON: %s", name, jerr.line,
                   jerr.column, jerr.text);
  return j;
}

char *
rf_json_quote (const char *s)
{
  cleanup_json json_t *str = json_string (s ? s : "");
  char *out;
  if (str == NULL) /* not valid UTF-8: keep the bytes we can describe */
    str = json_string ("<invalid utf-8>");
  out = json_dumps (str, JSON_ENCODE_ANY);
  if (out == NULL)
    abort ();
  return out;
}

const char *
rf_json_type_name (const json_t *j)
{
  switch (json_typeof (j))
    {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static int
wrong_type (const char *where, const char *key, const char *want,
            const json_t *got, rf_error_t *err)
{
  return rf_error_make (err, 0, "%s%s%s: expected %s, got %s",
                        where && *where ? where : "", where && *where ? "." : "",
                        key, want, rf_json_type_name (got));
}

int
rf_json_get_string (json_t *obj, const char *where, const char *key,
                    const char **out, rf_error_t *err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_string (v))
    return wrong_type (where, key, "a string", v, err);
  *out = json_string_value (v);
  return 1;
}

int
rf_json_get_bool (json_t *obj, const char *where, const char *key, bool *out,
                  rf_error_t *err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_boolean (v))
    return wrong_type (where, key, "a boolean", v, err);
  *out = json_is_true (v);
  return 1;
}

int
rf_json_get_int64 (json_t *obj, const char *where, const char *key,
                   int64_t *out, rf_error_t *err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_integer (v))
    return wrong_type (where, key, "an integer", v, err);
  *out = json_integer_value (v);
  return 1;
}

int
rf_json_get_uint32 (json_t *obj, const char *where, const char *key,
                    uint32_t *out, rf_error_t *err)
{
  int64_t v = 0;
  int r = rf_json_get_int64 (obj, where, key, &v, err);
  if (r <= 0)
    return r;
  if (v < 0 || v > UINT32_MAX)
    return rf_error_make (err, 0, "%s%s%s: %" PRId64 " is out of range 0..%u",
                          where && *where ? where : "",
                          where && *where ? "." : "", key, v, UINT32_MAX);
  *out = (uint32_t) v;
  return 1;
}

int
rf_json_get_uint64 (json_t *obj, const char *where, const char *key,
                    uint64_t *out, rf_error_t *err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_integer (v))
    return wrong_type (where, key, "an integer", v, err);
  /* jansson stores integers as long long; values above INT64_MAX (such as
     RLIM_INFINITY written as 18446744073709551615) are rejected by the
     parser, so negative means "the caller wrote a negative number". */
  if (json_integer_value (v) < 0)
    return rf_error_make (err, 0, "%s%s%s: %lld must not be negative",
                          where && *where ? where : "",
                          where && *where ? "." : "", key,
                          json_integer_value (v));
  *out = (uint64_t) json_integer_value (v);
  return 1;
}

int
rf_json_get_object (json_t *obj, const char *where, const char *key,
                    json_t **out, rf_error_t *err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_object (v))
    return wrong_type (where, key, "an object", v, err);
  *out = v;
  return 1;
}

int
rf_json_get_array (json_t *obj, const char *where, const char *key,
                   json_t **out, rf_error_t *err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_array (v))
    return wrong_type (where, key, "an array", v, err);
  *out = v;
  return 1;
}

int
rf_json_get_strv (json_t *obj, const char *where, const char *key,
                  char ***out, rf_error_t *err)
{
  json_t *arr = NULL, *item;
  size_t i;
  char **v;
  int r = rf_json_get_array (obj, where, key, &arr, err);
  if (r <= 0)
    return r;
  v = xzalloc ((json_array_size (arr) + 1) * sizeof (char *));
  json_array_foreach (arr, i, item)
    {
      if (!json_is_string (item))
        {
          strv_free (v);
          return rf_error_make (err, 0, "%s%s%s[%zu]: expected a string, got %s",
                                where && *where ? where : "",
                                where && *where ? "." : "", key, i,
                                rf_json_type_name (item));
        }
      v[i] = xstrdup (json_string_value (item));
    }
  *out = v;
  return 1;
}

json_t *
rf_json_strv (char *const *v)
{
  json_t *a = json_array ();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

int
rf_json_get_strmap (json_t *obj, const char *where, const char *key,
                    char ***out, rf_error_t *err)
{
  json_t *map = NULL, *item;
  const char *k;
  size_t i = 0;
  char **v;
  int r = rf_json_get_object (obj, where, key, &map, err);
  if (r <= 0)
    return r;
  v = xzalloc ((2 * json_object_size (map) + 1) * sizeof (char *));
  json_object_foreach (map, k, item)
    {
      if (!json_is_string (item))
        {
          strv_free (v);
          return rf_error_make (err, 0, "%s%s%s.%s: expected a string, got %s",
                                where && *where ? where : "",
                                where && *where ? "." : "", key, k,
                                rf_json_type_name (item));
        }
      v[i++] = xstrdup (k);
      v[i++] = xstrdup (json_string_value (item));
    }
  *out = v;
  return 1;
}
