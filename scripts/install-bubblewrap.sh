#!/usr/bin/env bash
# Install bubblewrap, which the code sandbox uses for a read-only, network-less view of the
# machine. Where it cannot be installed, the sandbox still applies its resource limits and
# logs what it cannot isolate.
set -u
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null 2>&1 && exit 0
fi
echo "warning: bubblewrap is not installed; generated code will run with resource limits only" >&2
echo "         (install the 'bubblewrap' package for file-system and network isolation)" >&2
exit 0
