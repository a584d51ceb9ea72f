#!/bin/sh
# Install the Debian packages Ingenium needs to build and test, and nothing
# else. Idempotent: each package is checked with dpkg first, and apt-get runs
# only when something is missing. Safe to call from every make target.
#   --fuzz  also the optional fuzzing toolchain (clang and its libFuzzer
#           runtime), for `make fuzz`.
# libpq-dev is the PostgreSQL client library the history store links; the
# postgresql server (initdb, pg_ctl under /usr/lib/postgresql/<ver>/bin) is
# only for the tests, which start a throwaway cluster (test/store/pgtest.c).
# nettle-dev: SHA-1 and base64 for exchange-sim's websocket handshake.
set -eu

PKGS="build-essential pkg-config libck-dev liburcu-dev libyaml-dev libcmocka-dev
libjansson-dev libcurl4-openssl-dev libmicrohttpd-dev libsqlite3-dev libwebsockets-dev nettle-dev
chromium"
FUZZ_PKGS="clang libclang-rt-dev"

for arg in "$@"; do
	case "$arg" in
	--fuzz) PKGS="$PKGS $FUZZ_PKGS" ;;
	*) echo "install-deps: unknown option $arg (want --fuzz)" >&2; exit 2 ;;
	esac
done
PKGS="$PKGS libpq-dev postgresql"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
		echo "install-deps: need root (or sudo) to install:$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
