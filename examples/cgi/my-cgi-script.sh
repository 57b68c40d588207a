#!/bin/sh
# The CGI script of minimal-http-server-cgi: a head, an empty line, then an HTML page about the request.
printf 'Content-Type: text/html; charset=utf-8\r\n\r\n'
cat <<HTML
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>lws-rs CGI</title></head><body>
<h1>lws-rs minimal-http-server-cgi</h1>
<p>Method: $REQUEST_METHOD, path info: ${PATH_INFO:-(none)}, query: ${QUERY_STRING:-(none)}</p>
<p>Served by $SERVER_SOFTWARE to $REMOTE_ADDR at $(date -u '+%Y-%m-%d %H:%M:%S UTC')</p>
</body></html>
HTML
