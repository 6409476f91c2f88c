#!/usr/bin/env bash
# Installs what the monitoring checks need when it is missing: Debian's prometheus package (promtool, prometheus),
# python3 and curl. Needs root and apt-get; the package's own service is kept from starting (it would take port
# 9090). Used by check-live.sh and by the metrics tests; safe to run again (does nothing when all are present).
#
#   deploy/prometheus/install-tools.sh        exit 0 when everything is installed, 1 with a one-line reason if not
set -euo pipefail

fail() { echo "install-tools: $*" >&2; exit 1; }

missing=()
command -v promtool >/dev/null && command -v prometheus >/dev/null || missing+=(prometheus)
command -v python3 >/dev/null || missing+=(python3)
command -v curl >/dev/null || missing+=(curl)
if (( ${#missing[@]} > 0 )); then
  [[ "$(id -u)" == 0 ]] || fail "${missing[*]} missing and not root: install them (apt-get install ${missing[*]})"
  command -v apt-get >/dev/null || fail "${missing[*]} missing and no apt-get to install them"
  echo "install-tools: installing ${missing[*]} with apt-get"
  apt_log="$(mktemp "${TMPDIR:-/tmp}/sluice-apt.XXXXXX")"
  # Keep the package's service from starting: policy-rc.d exit 101 = "action forbidden".
  added_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && added_policy=1
  fi
  install_rc=0
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get -y -q --no-install-recommends install "${missing[@]}" \
    >"$apt_log" 2>&1 || {
      DEBIAN_FRONTEND=noninteractive timeout 300 apt-get -q update >>"$apt_log" 2>&1 &&
        DEBIAN_FRONTEND=noninteractive timeout 900 apt-get -y -q --no-install-recommends install "${missing[@]}" \
          >>"$apt_log" 2>&1
    } || install_rc=$?
  (( added_policy )) && rm -f /usr/sbin/policy-rc.d
  if (( install_rc != 0 )); then
    tail -n 20 "$apt_log" >&2
    rm -f "$apt_log"
    fail "apt-get install ${missing[*]} failed"
  fi
  rm -f "$apt_log"
fi
for t in promtool prometheus python3 curl; do command -v "$t" >/dev/null || fail "$t is not installed"; done
