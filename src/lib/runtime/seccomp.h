/* linux.seccomp: compiled with libseccomp to a BPF program once, in runf,
 * before the container exists (so a bad profile fails with nothing made);
 * init then only has to load it, as the last step before exec (or before
 * dropping capabilities when noNewPrivileges is false, and before READY
 * when a notify listener must get its fd). */
#ifndef RF_SECCOMP_H
#define RF_SECCOMP_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/error.h"

typedef struct
{
  struct sock_filter *insns;
  size_t n_insns;
  unsigned int flags;      /* SECCOMP_FILTER_FLAG_* */
  bool notify;             /* some rule uses SCMP_ACT_NOTIFY */
  char *listener_path;     /* where the notify fd goes */
  char *listener_metadata;
} rf_seccomp_t;

/* Compile the linux.seccomp object `obj` (NULL: no filter, *out empty). */
int rf_seccomp_compile (json_t *obj, const char *where, rf_seccomp_t *out, rf_error_t *err);
/* Load into the calling thread; with notify, *notify_fd gets the listener. */
int rf_seccomp_load (const rf_seccomp_t *sc, int *notify_fd, rf_error_t *err);
void rf_seccomp_clear (rf_seccomp_t *sc);
/* Send the notify fd with the container process state, as runc does. */
int rf_seccomp_send_listener (const rf_seccomp_t *sc, int notify_fd, const char *state_json,
                              rf_error_t *err);

/* For `runf features`: the names runf accepts. */
extern const char *const rf_seccomp_actions[];
extern const char *const rf_seccomp_operators[];
extern const char *const rf_seccomp_flags[];

#endif
