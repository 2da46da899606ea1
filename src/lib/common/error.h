/* Errors: a failing function takes `rf_error_t *err` last, fills it and
 * returns a negative int.  Callers add context on the way up; only main()
 * prints, once. */
#ifndef RF_ERROR_H
#define RF_ERROR_H

#include <stdarg.h>

typedef struct rf_error_s {
  int code; /* errno of the failure, 0 when there is none */
  char *msg;
} *rf_error_t;

/* Fill *err (when err is not NULL and empty) and return -1. */
int rf_error_make (rf_error_t *err, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
int rf_error_makev (rf_error_t *err, int code, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 3, 0)));
/* Shorthand for rf_error_make (err, errno, ...). */
int rf_error_sys (rf_error_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/* Prepend "context: " to the message of an existing error; returns -1. */
int rf_error_wrap (rf_error_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/* The full text: "msg: strerror(code)" or "msg". Owned by the caller. */
char *rf_error_text (const rf_error_t err);
void rf_error_free (rf_error_t *err);
#define cleanup_error __attribute__ ((cleanup (rf_error_free)))

#endif
