/* Network interfaces, as far as runf needs them. */
#pragma once

#include "common/error.h"

/* Bring the interface up in the caller's network namespace (a new
   namespace has even lo down).  Already up: nothing to do. */
int rf_netif_up (const char *name, rf_error_t *err);
