/* What a pull is doing.  On a terminal: a line per blob rewritten in
 * place with bytes, total and speed.  Otherwise: one quiet line per blob
 * once it is done. */
#ifndef RF_IMAGE_PROGRESS_H
#define RF_IMAGE_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct rf_progress_s rf_progress_t;

/* out NULL: silent. */
rf_progress_t *rf_progress_new (FILE *out, bool tty);
void rf_progress_free (rf_progress_t *p);
/* What a finished blob's line says it was (default "fetched"). */
void rf_progress_set_verb (rf_progress_t *p, const char *verb);
/* Start a blob: label as "layer 2 (sha256:0123...)", total bytes or -1. */
void rf_progress_start (rf_progress_t *p, const char *label, int64_t total);
void rf_progress_update (rf_progress_t *p, int64_t done);
/* A retry starts the blob over. */
void rf_progress_restart (rf_progress_t *p, const char *why);
void rf_progress_done (rf_progress_t *p, bool ok);
/* A line of its own ("layer 1 (...): already in the store"). */
void rf_progress_line (rf_progress_t *p, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#endif
