/* Scope-bound ownership.  A variable declared with one of these attributes
 * is released when it goes out of scope; hand it on with steal_pointer() or
 * steal_fd() to keep it. */
#ifndef RF_CLEANUP_H
#define RF_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "xalloc.h"

static inline void
cleanup_freep (void *p)
{
  void **pp = (void **) p;
  free (*pp);
}

static inline void
cleanup_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}

static inline void
cleanup_fclosep (FILE **f)
{
  if (*f)
    fclose (*f);
}

static inline void
cleanup_strvp (char ***v)
{
  strv_free (*v);
}

#define cleanup_free __attribute__ ((cleanup (cleanup_freep)))
#define cleanup_close __attribute__ ((cleanup (cleanup_closep)))
#define cleanup_fclose __attribute__ ((cleanup (cleanup_fclosep)))
#define cleanup_strv __attribute__ ((cleanup (cleanup_strvp)))

#define steal_pointer(pp)                                                     \
  ({                                                                          \
    __typeof__ (*(pp)) stolen_ = *(pp);                                       \
    *(pp) = NULL;                                                             \
    stolen_;                                                                  \
  })

#define steal_fd(fdp)                                                         \
  ({                                                                          \
    int stolen_fd_ = *(fdp);                                                  \
    *(fdp) = -1;                                                              \
    stolen_fd_;                                                               \
  })

#define ARRAY_SIZE(a) (sizeof (a) / sizeof ((a)[0]))

#endif
