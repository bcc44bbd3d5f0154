#!/usr/bin/env bash
# Install Debian's Chromium, in which the memory report's test renders the HTML page headless
# and takes a screenshot. Where it cannot be installed, that test is skipped and says why.
set -u
if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
    fonts-dejavu-core >/dev/null 2>&1 && exit 0
fi
echo "warning: Chromium is not installed; the memory report's browser test will be skipped" >&2
exit 0
