#!/bin/sh
# Vnflcm modify_information_end: the site has rendered swanctl.conf anew; charon loads it
# (connections and secrets no longer in it are unloaded). A non-zero exit rolls back.
set -eu
exec /usr/sbin/swanctl --load-all --noprompt --file "$ROOT/etc/swanctl/swanctl.conf" \
    --uri "unix://$RUN/charon.vici"
