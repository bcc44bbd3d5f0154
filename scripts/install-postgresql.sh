#!/usr/bin/env bash
# Install PostgreSQL's server binaries, which the multi-worker tests start on loopback with a
# throwaway data folder (as an unprivileged user: PostgreSQL refuses root). Where they cannot
# be installed, those tests are skipped and say why.
set -u
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 && exit 0
fi
echo "warning: PostgreSQL is not installed; the multi-worker tests will be skipped" >&2
exit 0
