/* The admin API's request, shared by its files: api.c reads requests,
 * authenticates and routes them; api_system.c (secrets, info,
 * namespaces), async.c (asynchronous invocations) and dashboard.c (the
 * web page) answer some of them. */
#ifndef RUNFD_API_H
#define RUNFD_API_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/http.h"
#include "runfd.h"

typedef struct api_req
{
  rfd_watch_t w;
  char *buf;
  size_t len, cap;
  long head_len;
  rf_http_request_t req;
  size_t below; /* where in req.target what follows a routed function's name starts */
  rfd_timer_t deadline; /* the head, then each pause in the body */
  bool chunked;
  rf_http_chunked_t ch;
  uint64_t body_left; /* Content-Length still to come */
  bool upload;        /* the body goes to a file */
  int upload_fd;
  char *upload_path;
  bool www_authenticate; /* a 401: say which schemes */
  uint64_t upload_size;
  /* the answer, sent as the client takes it */
  char *out;
  size_t out_len, out_off;
  bool replying;
  const char *extra_headers; /* for rfd_api_reply (which copies them): lines ending in CRLF */
  /* an import or a deploy under way */
  rfd_watch_t job;
  pid_t job_pid;
  char *job_out;
  size_t job_len;
  bool busy;
  bool body_read; /* all of the request is in */
} api_req_t;

/* The answer: sent as the client takes it, then the connection closes. */
void rfd_api_reply (api_req_t *r, int status, const char *type, const char *body, size_t len);
/* What rfd_api_reply sends is in r->out from here: extra_headers may go. */
/* doc is stolen. */
void rfd_api_reply_json (api_req_t *r, int status, json_t *doc);
/* {"error": msg} */
void rfd_api_reply_error (api_req_t *r, int status, const char *msg);
/* err's text, as 404 (ENOENT), 409 (EEXIST, EBUSY), 413 (EFBIG) or 400;
   err is freed. */
void rfd_api_reply_rf_error (api_req_t *r, rf_error_t err);
/* One parameter of the query, percent-decoded; NULL when absent. */
char *rfd_api_query_param (const api_req_t *r, const char *key);
/* The body as JSON, or NULL. */
json_t *rfd_api_body_json (api_req_t *r);
/* The body's bytes. */
const char *rfd_api_body (const api_req_t *r, size_t *len);

/* async.c: POST /async-function/NAME[/PATH] */
void rfd_api_async_invoke (api_req_t *r, const char *name);

/* dashboard.c: GET /ui */
void rfd_api_get_dashboard (api_req_t *r, const char *name);

/* api_system.c */
void rfd_api_get_info (api_req_t *r, const char *name);
void rfd_api_get_namespaces (api_req_t *r, const char *name);
void rfd_api_list_secrets (api_req_t *r, const char *name);
void rfd_api_create_secret (api_req_t *r, const char *name);
void rfd_api_update_secret (api_req_t *r, const char *name);
void rfd_api_remove_secret (api_req_t *r, const char *name);

#endif
