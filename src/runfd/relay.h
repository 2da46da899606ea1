/* One HTTP request at a time between a client and a handler (relay.c). */
#ifndef RFD_RELAY_H
#define RFD_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "runfd.h"

typedef struct rfd_relay rfd_relay_t;
/* The relay is done: client is the client's connection when it may carry
   another request (the owner routes it again), else -1 (closed). */
typedef void (*rfd_relay_end_fn) (rfd_relay_t *r, int client, void *data);
/* The handler closed without sending a byte: the owner answers, with
   rfd_relay_fail, once it knows why. */
typedef void (*rfd_relay_unanswered_fn) (rfd_relay_t *r, void *data);

/* Relay between client and inner (both owned by the relay from here), with
   no progress for idle_ns ending it (504 when nothing was answered).  With
   strip (a path prefix like /function/NAME), the request's target loses
   it on the way.  NULL when it is over already (a malformed request, a
   client gone): on_end has been called then. */
rfd_relay_t *rfd_relay_new (int client, int inner, uint64_t idle_ns, const char *strip, rfd_relay_end_fn on_end,
                            rfd_relay_unanswered_fn on_unanswered, void *data);
/* Answer status (if nothing was answered yet) and end. */
void rfd_relay_fail (rfd_relay_t *r, int status, const char *body);
/* The handler has ended (its process is gone): read what it left; when
   it sent nothing, answer status and end.  Whether it had answered; the
   owner is let go either way. */
bool rfd_relay_handler_gone (rfd_relay_t *r, int status, const char *body);
/* The owner lets go: no callbacks from here on. */
void rfd_relay_detach (rfd_relay_t *r);
/* Another owner takes over, with its callbacks. */
void rfd_relay_handover (rfd_relay_t *r, rfd_relay_end_fn on_end, rfd_relay_unanswered_fn on_unanswered,
                         void *data);
bool rfd_relay_answered_p (const rfd_relay_t *r);

#endif
