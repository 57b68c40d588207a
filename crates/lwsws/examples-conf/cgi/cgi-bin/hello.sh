#!/bin/sh
# A CGI script: a head (Content-Type is required), an empty line, then the document.
printf 'Content-Type: text/plain; charset=utf-8\r\n\r\n'
echo "${GREETING:-hi} from $SCRIPT_NAME"
echo "PATH_INFO=$PATH_INFO"
echo "QUERY_STRING=$QUERY_STRING"
echo "REQUEST_METHOD=$REQUEST_METHOD"
if [ "$REQUEST_METHOD" = POST ]; then
  echo "body:"
  cat
fi
