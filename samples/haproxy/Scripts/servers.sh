#!/bin/sh
# Writes $RUN/haproxy/servers.cfg, the backend `lan_servers`, from PARAM_SERVERS ("address:port"
# separated by spaces): a template cannot repeat a line per server.
set -eu
mkdir -p "$RUN/haproxy"
out="$RUN/haproxy/servers.cfg"
n=0
{
    echo "backend lan_servers"
    for server in $PARAM_SERVERS; do
        case "$server" in
            *[!0-9.:]* | *:*:* | *:) echo "servers.sh: '$server' is not address:port" >&2; exit 1 ;;
            [0-9]*.*.*.*:[0-9]*) ;;
            *) echo "servers.sh: '$server' is not address:port" >&2; exit 1 ;;
        esac
        n=$((n + 1))
        echo "  server s$n $server"
    done
} >"$out.new"
if [ "$n" -eq 0 ]; then
    echo "servers.sh: the parameter servers names no server" >&2
    exit 1
fi
mv "$out.new" "$out"
