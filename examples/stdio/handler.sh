#!/bin/sh
# A stdio-mode handler: runf's shim runs it once per request with the body
# on stdin and the request in CGI variables, and sends what it prints.
# The header lines and the empty line first are optional (without them the
# answer is 200, text/plain).
printf 'Status: 200 OK\n'
printf 'Content-Type: text/plain\n'
printf 'X-Handler: stdio/handler.sh\n'
printf '\n'
printf 'Hello from %s (stdio)\n' "${RUNF_FUNCTION:-a shell script}"
printf 'method: %s\n' "$REQUEST_METHOD"
printf 'path: %s\n' "$PATH_INFO"
printf 'query: %s\n' "$QUERY_STRING"
printf 'content-type: %s\n' "$CONTENT_TYPE"
printf 'content-length: %s\n' "$CONTENT_LENGTH"
printf 'user-agent: %s\n' "$HTTP_USER_AGENT"
printf 'body:\n'
exec cat
