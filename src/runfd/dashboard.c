/* The dashboard: GET /ui on the admin API, behind its authentication (the
 * unix socket's mode, or the token on TCP: a browser asks for it as Basic
 * auth's password).  One page of plain HTML and JavaScript
 * (share/runf/dashboard.html, compiled in) that reads the API itself. */
#include <string.h>

#include "api.h"
#include "runfd.h"

extern const char rfd_dashboard_html[];

void
rfd_api_get_dashboard (api_req_t *r, const char *name)
{
  /* Its script is inline; nothing else may run in it, and no other site
     may frame it (a click on Invoke is a request with the user's
     credentials). */
  r->extra_headers = "Content-Security-Policy: default-src 'self'; script-src 'unsafe-inline'; "
                     "style-src 'unsafe-inline'; frame-ancestors 'none'\r\n"
                     "X-Frame-Options: DENY\r\nCache-Control: no-store\r\n";
  rfd_api_reply (r, 200, "text/html; charset=utf-8", rfd_dashboard_html, strlen (rfd_dashboard_html));
  r->extra_headers = NULL;
}
