#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

int
rf_error_makev (rf_error_t *err, int code, const char *fmt, va_list ap)
{
  if (err == NULL)
    return -1;
  /* The first error is the precise one; later ones are consequences. */
  if (*err != NULL)
    return -1;
  *err = xmalloc (sizeof (**err));
  (*err)->code = code;
  (*err)->msg = xvasprintf (fmt, ap);
  return -1;
}

int
rf_error_make (rf_error_t *err, int code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  rf_error_makev (err, code, fmt, ap);
  va_end (ap);
  return -1;
}

int
rf_error_sys (rf_error_t *err, const char *fmt, ...)
{
  int saved = errno;
  va_list ap;
  va_start (ap, fmt);
  rf_error_makev (err, saved, fmt, ap);
  va_end (ap);
  errno = saved;
  return -1;
}

int
rf_error_wrap (rf_error_t *err, const char *fmt, ...)
{
  char *prefix, *joined;
  va_list ap;

  if (err == NULL || *err == NULL)
    return -1;
  va_start (ap, fmt);
  prefix = xvasprintf (fmt, ap);
  va_end (ap);
  joined = xasprintf ("%s: %s", prefix, (*err)->msg);
  free (prefix);
  free ((*err)->msg);
  (*err)->msg = joined;
  return -1;
}

char *
rf_error_text (const rf_error_t err)
{
  if (err == NULL)
    return xstrdup ("unknown error");
  if (err->code == 0)
    return xstrdup (err->msg);
  return xasprintf ("%s: %s", err->msg, strerror (err->code));
}

void
rf_error_free (rf_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  free ((*err)->msg);
  free (*err);
  *err = NULL;
}
