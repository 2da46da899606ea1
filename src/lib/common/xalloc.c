#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
oom (void)
{
  static const char msg[] = "runf: out of memory\n";
  fwrite (msg, 1, sizeof msg - 1, stderr);
  abort ();
}

void *
xmalloc (size_t size)
{
  void *p = malloc (size ? size : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
xzalloc (size_t size)
{
  void *p = calloc (1, size ? size : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
xrealloc (void *ptr, size_t size)
{
  void *p = realloc (ptr, size ? size : 1);
  if (p == NULL)
    oom ();
  return p;
}

char *
xstrdup (const char *s)
{
  char *p = strdup (s);
  if (p == NULL)
    oom ();
  return p;
}

char *
xstrndup (const char *s, size_t n)
{
  char *p = strndup (s, n);
  if (p == NULL)
    oom ();
  return p;
}

char *
xvasprintf (const char *fmt, va_list ap)
{
  char *p;
  if (vasprintf (&p, fmt, ap) < 0)
    oom ();
  return p;
}

char *
xasprintf (const char *fmt, ...)
{
  char *p;
  va_list ap;
  va_start (ap, fmt);
  p = xvasprintf (fmt, ap);
  va_end (ap);
  return p;
}

void
strv_free (char **v)
{
  if (v == NULL)
    return;
  for (char **it = v; *it; it++)
    free (*it);
  free (v);
}

size_t
strv_len (char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}
