/* The rule for a function's name, shared by runfd (which enforces it) and
 * runfctl (which checks it before uploading an image in vain). */
#ifndef RF_FNNAME_H
#define RF_FNNAME_H

#include <stdbool.h>

/* 1 to 63 lower-case letters, digits, '-' and '_', the first a letter or
   a digit: safe as a file name, a cgroup name and a URL path segment. */
bool rf_function_name_valid_p (const char *s);

#endif
