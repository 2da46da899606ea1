/* runc's org.systemd.property.NAME annotations: unit properties given in
 * config.json, values in GVariant's text form (cgroup_systemd.h).  The
 * values come from whoever wrote the config: everything is checked, and
 * what is not understood is an error naming the annotation. */
#include "cgroup_systemd.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

#define PREFIX "org.systemd.property."

void
rf_unit_props_free_values (rf_unit_prop_t *props, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (props[i].bytes);
      strv_free (props[i].strv);
      free (props[i].s_owned);
      free (props[i].name_owned);
    }
}

void
rf_unit_props_free (rf_unit_prop_t *props, size_t n)
{
  rf_unit_props_free_values (props, n);
  free (props);
}

/* GVariant's names of the basic types a property can have, with the
   D-Bus signature of each. */
static const struct
{
  const char *word;
  const char *sig;
} type_words[] = {
  { "boolean", "b" }, { "byte", "y" },   { "int16", "n" },  { "uint16", "q" }, { "int32", "i" },
  { "uint32", "u" },  { "int64", "x" },  { "uint64", "t" }, { "double", "d" }, { "string", "s" },
};

typedef struct
{
  const char *p;
  const char *why; /* what is wrong, at p */
} cursor_t;

static void
skip_space (cursor_t *c)
{
  while (isspace ((unsigned char) *c->p))
    c->p++;
}

static int
fail (cursor_t *c, const char *why)
{
  c->why = why;
  return -1;
}

/* The range of an integer type; false for a non-integer one. */
static bool
int_range (const char *sig, int64_t *lo, uint64_t *hi)
{
  switch (sig[0])
    {
    case 'y': *lo = 0, *hi = UINT8_MAX; return true;
    case 'n': *lo = INT16_MIN, *hi = INT16_MAX; return true;
    case 'q': *lo = 0, *hi = UINT16_MAX; return true;
    case 'i': *lo = INT32_MIN, *hi = INT32_MAX; return true;
    case 'u': *lo = 0, *hi = UINT32_MAX; return true;
    case 'x': *lo = INT64_MIN, *hi = INT64_MAX; return true;
    case 't': *lo = 0, *hi = UINT64_MAX; return true;
    default: return false;
    }
}

/* A number: of type sig where one was given; else an int32, or a double
   where it has a point or an exponent (as GVariant infers them). */
static int
parse_number (cursor_t *c, const char *sig, rf_unit_prop_t *v)
{
  const char *start = c->p;
  size_t len = strspn (start, "+-0123456789abcdefABCDEFxX.");
  const char *digits = start + (*start == '-' || *start == '+');
  bool hex = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
  bool fraction = !hex && strcspn (start, ".eE") < len;
  int64_t lo;
  uint64_t hi;
  char *end;

  if (!isdigit ((unsigned char) *digits) && *digits != '.')
    return fail (c, "not a value GVariant's text form has (a number, 'string', true, false, [array])");
  if (*sig == '\0')
    sig = fraction ? "d" : "i";
  errno = 0;
  if (*sig == 'd')
    {
      v->d = strtod (start, &end);
      if (end == start || errno == ERANGE || !isfinite (v->d))
        return fail (c, "not a double");
    }
  else if (!int_range (sig, &lo, &hi))
    return fail (c, "a number where the type asks for something else");
  else if (fraction)
    return fail (c, "a fraction where the type is an integer");
  else if (*start == '-')
    {
      long long x = strtoll (start, &end, 0);
      if (end == start || errno == ERANGE || x < lo)
        return fail (c, "a number out of its type's range");
      v->x = x;
    }
  else
    {
      unsigned long long t = strtoull (start, &end, 0);
      if (end == start || errno == ERANGE || t > hi)
        return fail (c, "a number out of its type's range");
      v->t = t;
      v->x = (int64_t) t;
    }
  v->sig = sig;
  c->p = end;
  return 0;
}

/* 'text' or "text", with GVariant's backslash escapes; *out owned. */
static int
parse_string (cursor_t *c, char **out)
{
  char quote = *c->p++;
  size_t len = 0, cap = 16;
  cleanup_free char *s = xmalloc (cap);

  for (;;)
    {
      char ch = *c->p++;
      if (ch == '\0')
        {
          c->p--;
          return fail (c, "a string without its closing quote");
        }
      if (ch == quote)
        break;
      if (ch == '\\')
        {
          switch (*c->p++)
            {
            case '\\': ch = '\\'; break;
            case '\'': ch = '\''; break;
            case '"': ch = '"'; break;
            case 'n': ch = '\n'; break;
            case 't': ch = '\t'; break;
            case 'r': ch = '\r'; break;
            default: c->p -= 2; return fail (c, "an escape other than \\\\ \\' \\\" \\n \\t \\r");
            }
        }
      if (len + 2 > cap)
        s = xrealloc (s, cap *= 2);
      s[len++] = ch;
    }
  s[len] = '\0';
  *out = steal_pointer (&s);
  return 0;
}

static bool
word_at (cursor_t *c, const char *word)
{
  size_t n = strlen (word);
  if (strncmp (c->p, word, n) != 0 || isalnum ((unsigned char) c->p[n]))
    return false;
  c->p += n;
  return true;
}

/* One value, of type sig ("" where nothing said which). */
static int
parse_value (cursor_t *c, const char *sig, rf_unit_prop_t *v)
{
  skip_space (c);
  if (*sig == '\0' && *c->p == '@')
    {
      /* @TYPE VALUE: a basic type, or an array of strings. */
      c->p++;
      if (strncmp (c->p, "as", 2) == 0 && !isalnum ((unsigned char) c->p[2]))
        sig = "as";
      else if (*c->p && strchr ("bynqiuxtds", *c->p) && !isalnum ((unsigned char) c->p[1]))
        {
          for (size_t i = 0; i < ARRAY_SIZE (type_words); i++)
            if (type_words[i].sig[0] == *c->p)
              sig = type_words[i].sig;
        }
      else
        return fail (c, "a type runf does not take here (basic types and `as`)");
      c->p += strlen (sig);
      skip_space (c);
    }
  else if (*sig == '\0')
    for (size_t i = 0; i < ARRAY_SIZE (type_words); i++)
      if (word_at (c, type_words[i].word))
        {
          sig = type_words[i].sig;
          skip_space (c);
          break;
        }

  bool is_true = word_at (c, "true");
  if (is_true || word_at (c, "false"))
    {
      if (*sig && *sig != 'b')
        return fail (c, "a boolean where the type asks for something else");
      v->sig = "b";
      v->b = is_true;
      return 0;
    }
  if (*c->p == '\'' || *c->p == '"')
    {
      if (*sig && *sig != 's')
        return fail (c, "a string where the type asks for something else");
      v->sig = "s";
      if (parse_string (c, &v->s_owned) < 0)
        return -1;
      v->s = v->s_owned;
      return 0;
    }
  if (*c->p == '[')
    {
      size_t n = 0;
      if (*sig && strcmp (sig, "as") != 0)
        return fail (c, "an array where the type asks for something else");
      v->sig = "as";
      v->strv = xzalloc (sizeof *v->strv);
      c->p++;
      skip_space (c);
      while (*c->p != ']')
        {
          if (*c->p == '\0')
            return fail (c, "an array without its closing `]`");
          if (n > 0)
            {
              if (*c->p != ',')
                return fail (c, "an array's items not separated by commas");
              c->p++;
              skip_space (c);
            }
          if (*c->p != '\'' && *c->p != '"')
            return fail (c, "an array of something else than strings (runf takes `as` alone)");
          v->strv = xrealloc (v->strv, (n + 2) * sizeof *v->strv);
          v->strv[n + 1] = NULL;
          if (parse_string (c, &v->strv[n]) < 0)
            return -1;
          n++;
          skip_space (c);
        }
      c->p++;
      return 0;
    }
  if (*sig == 'b' || *sig == 's' || (*sig == 'a'))
    return fail (c, "not a value of the type given");
  return parse_number (c, sig, v);
}

int
rf_gvariant_parse (const char *text, rf_unit_prop_t *v, const char **why, size_t *at)
{
  cursor_t c = { .p = text, .why = NULL };
  int r;

  memset (v, 0, sizeof *v);
  r = parse_value (&c, "", v);
  if (r == 0)
    {
      skip_space (&c);
      if (*c.p != '\0')
        r = fail (&c, "something after the value");
    }
  if (r < 0)
    {
      *why = c.why;
      *at = (size_t) (c.p - text);
      rf_unit_props_free_values (v, 1);
      memset (v, 0, sizeof *v);
    }
  return r;
}

/* NAMESec, as systemd documents its times, is NAMEUSec on the bus: the
   number of seconds becomes microseconds (runc does the same). */
static int
seconds_to_usec (rf_unit_prop_t *v)
{
  double usec;
  switch (v->sig[0])
    {
    case 'd': usec = v->d * 1e6; break;
    case 'y': case 'q': case 'u': case 't': usec = (double) v->t * 1e6; break;
    case 'n': case 'i': case 'x': usec = (double) v->x * 1e6; break;
    default: return -1;
    }
  if (!(usec >= 0) || usec >= 18446744073709551616.0)
    return -1;
  v->t = (uint64_t) usec;
  v->sig = "t";
  return 0;
}

static bool
property_name_ok (const char *name)
{
  if (*name == '\0')
    return false;
  for (const char *p = name; *p; p++)
    if (!isalnum ((unsigned char) *p))
      return false;
  return true;
}

bool
rf_systemd_name_ends_with (const char *name, const char *suffix)
{
  size_t ln = strlen (name), ls = strlen (suffix);
  return ln >= ls && strcmp (name + ln - ls, suffix) == 0;
}

int
rf_systemd_annotation_props (char *const *annotations, rf_unit_prop_t **props, size_t *n,
                             rf_error_t *err)
{
  *props = NULL;
  *n = 0;
  for (size_t i = 0; annotations && annotations[i] && annotations[i + 1]; i += 2)
    {
      const char *key = annotations[i], *text = annotations[i + 1];
      const char *name = key + strlen (PREFIX);
      const char *why = NULL;
      size_t at = 0;
      rf_unit_prop_t v;

      if (strncmp (key, PREFIX, strlen (PREFIX)) != 0)
        continue;
      if (!property_name_ok (name))
        {
          rf_error_make (err, 0, "annotations.%s: `%s` is not a systemd property name (letters and digits)",
                         key, name);
          goto fail;
        }
      if (rf_gvariant_parse (text, &v, &why, &at) < 0)
        {
          rf_error_make (err, 0, "annotations.%s: value `%s`, at byte %zu: %s", key, text, at, why);
          goto fail;
        }
      if (rf_systemd_name_ends_with (name, "Sec") && !rf_systemd_name_ends_with (name, "USec"))
        {
          if (seconds_to_usec (&v) < 0)
            {
              rf_error_make (err, 0,
                             "annotations.%s: value `%s`: seconds, a number from 0 to 2^64 microseconds", key,
                             text);
              rf_unit_props_free_values (&v, 1);
              goto fail;
            }
          v.name_owned = xasprintf ("%.*sUSec", (int) (strlen (name) - 3), name);
        }
      else
        v.name_owned = xstrdup (name);
      v.name = v.name_owned;
      *props = xrealloc (*props, (*n + 1) * sizeof **props);
      (*props)[(*n)++] = v;
    }
  return 0;

fail:
  rf_unit_props_free (*props, *n);
  *props = NULL;
  *n = 0;
  return -1;
}
