#!/usr/bin/env bash
# Docker HEALTHCHECK of a Sluice broker: exit 0 when GET /health/ready answers 200. Uses bash's /dev/tcp, so the
# image needs neither curl nor wget. The broker binds broker.host (default: this container's hostname, as set by
# compose.yml through SLUICE_BROKER_HOST) and http.port.
set -uo pipefail
host="${SLUICE_BROKER_HOST:-$(hostname)}"
port="${SLUICE_HTTP_PORT:-7270}"
exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET /health/ready HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host" >&3
IFS= read -r -t 4 status <&3 || exit 1
[[ "$status" == *" 200 "* ]]
