/* Untrusted strings (names from archives, registry replies) made safe to
 * put in a one-line error message. */
#ifndef RF_IMAGE_TEXT_H
#define RF_IMAGE_TEXT_H

#include <stddef.h>

/* A copy of s with control characters and non-ASCII bytes replaced by '?',
   cut to max bytes with "..." appended when longer.  Owned by the caller. */
char *rf_printable (const char *s, size_t max);
/* Human sizes: "512 B", "3.2 KiB", "1.5 GiB". */
void rf_format_size (double bytes, char *buf, size_t len);

#endif
