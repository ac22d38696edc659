#!/bin/sh
# Vnflcm modify_information_end: the site has rendered haproxy.cfg anew; write the backend,
# check the whole configuration (what it finds wrong goes into the failed change), then have
# the master reload it (SIGUSR2). A non-zero exit rolls back.
set -eu
/bin/sh "$ROOT/Scripts/servers.sh"
/usr/sbin/haproxy -c -f "$ROOT/etc/haproxy/haproxy.cfg" -f "$RUN/haproxy/servers.cfg"
kill -USR2 "$(cat "$RUN/haproxy/haproxy.pid")"
