#!/bin/sh
# A runf function in stdio mode (CGI-like): runfd's shim reads the HTTP
# request, runs this script once per request with the body on stdin and
# the request in CGI variables (REQUEST_METHOD, PATH_INFO, QUERY_STRING,
# CONTENT_TYPE, CONTENT_LENGTH, HTTP_<HEADER>), and sends back what it
# prints: optional CGI headers ("Status: 201 Created", "Content-Type: ..."),
# an empty line, then the body.  Without headers, everything printed is
# the body (200, text/plain).  stderr goes to the function's log.
printf 'Content-Type: text/plain\n\n'
echo "Hello from ${RUNF_FUNCTION:-__NAME__}: $REQUEST_METHOD ${PATH_INFO:-/}"
# The request body, echoed back.
cat
