/* Allocation that cannot fail: out of memory aborts. */
#ifndef RF_XALLOC_H
#define RF_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc (size_t size);
void *xzalloc (size_t size);
void *xrealloc (void *ptr, size_t size);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
char *xvasprintf (const char *fmt, va_list ap) __attribute__ ((format (printf, 1, 0)));
/* Free a NULL-terminated array of strings and the array itself. */
void strv_free (char **v);
size_t strv_len (char *const *v);

#endif
