#!/bin/sh
# The haproxy VDU: writes the backend, then becomes HAProxy's master process (in the
# foreground; SIGUSR2 reloads it, SIGTERM stops it and its worker).
set -eu
/bin/sh "$ROOT/Scripts/servers.sh"
exec /usr/sbin/haproxy -W -db -f "$ROOT/etc/haproxy/haproxy.cfg" -f "$RUN/haproxy/servers.cfg" \
    -p "$RUN/haproxy/haproxy.pid"
