#!/usr/bin/env bash
# Create .venv (if missing) and install the given requirements file into it, only when it changed.
set -euo pipefail
cd "$(dirname "$0")/.."
req="${1:-requirements.txt}"

if [ ! -x .venv/bin/python ]; then
  if ! python3 -m venv .venv 2>/dev/null; then
    if [ "$(id -u)" -eq 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip
      python3 -m venv .venv
    else
      echo "python3-venv is missing. Run: sudo apt-get install -y python3-venv python3-pip" >&2
      exit 1
    fi
  fi
fi
# python-magic needs the libmagic C library (Debian: the `file` package depends on the right one).
if ! ldconfig -p 2>/dev/null | grep -q 'libmagic\.so\.1'; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq file
  else
    echo "libmagic is missing. Run: sudo apt-get install -y file" >&2
    exit 1
  fi
fi
stamp=".venv/.installed-$(cat requirements.txt "$req" | sha256sum | cut -c1-16)-$(basename "$req")"
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r "$req"
  touch "$stamp"
fi
