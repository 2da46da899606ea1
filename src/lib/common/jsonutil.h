/* JSON helpers over jansson: loading with line/column errors, and typed
 * getters whose errors name the field ("process.args[2]: expected a string"). */
#ifndef RF_JSONUTIL_H
#define RF_JSONUTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

static inline void
cleanup_jsonp (json_t **j)
{
  if (*j)
    json_decref (*j);
}
#define cleanup_json __attribute__ ((cleanup (cleanup_jsonp)))

/* Parse a whole file; the error names the file, line and column. */
json_t *rf_json_load_file (const char *path, rf_error_t *err);
json_t *rf_json_load_buffer (const char *name, const char *buf, size_t len,
                             rf_error_t *err);
/* A quoted, escaped JSON string; owned by the caller. */
char *rf_json_quote (const char *s);
const char *rf_json_type_name (const json_t *j);

/* Typed access: each returns 0 when the key is absent (leaving *out as is),
   1 when present and of the right type, -1 with err set otherwise.  `where`
   is the path of the object, used in messages. */
int rf_json_get_string (json_t *obj, const char *where, const char *key,
                        const char **out, rf_error_t *err);
int rf_json_get_bool (json_t *obj, const char *where, const char *key,
                      bool *out, rf_error_t *err);
int rf_json_get_int64 (json_t *obj, const char *where, const char *key,
                       int64_t *out, rf_error_t *err);
int rf_json_get_uint32 (json_t *obj, const char *where, const char *key,
                        uint32_t *out, rf_error_t *err);
int rf_json_get_uint64 (json_t *obj, const char *where, const char *key,
                        uint64_t *out, rf_error_t *err);
int rf_json_get_object (json_t *obj, const char *where, const char *key,
                        json_t **out, rf_error_t *err);
int rf_json_get_array (json_t *obj, const char *where, const char *key,
                       json_t **out, rf_error_t *err);
/* A NULL-terminated, newly allocated array of strings. */
int rf_json_get_strv (json_t *obj, const char *where, const char *key,
                      char ***out, rf_error_t *err);
/* The other way: a JSON array of the strings of v (NULL: an empty one). */
json_t *rf_json_strv (char *const *v);
/* A string map (object of strings) as a NULL-terminated key, value, ... list. */
int rf_json_get_strmap (json_t *obj, const char *where, const char *key,
                        char ***out, rf_error_t *err);

#endif
