#!/bin/bash
# demo.sh - what `make run` runs: the paper daemon on the bundled data, with
# the API and the dashboard on loopback.
#
#   scripts/demo.sh BUILD_DIR
#
# The bearer token comes from INGENIUM_API_TOKEN; when it is unset, one is
# generated for this run and shown (it only opens a loopback port of this
# demo). IG_DEMO_PORT (default 8080, the next free one is taken if busy) and
# IG_DEMO_RATE (events/s, default 200: about 40 s of data) change the pace.
# In a terminal the daemon lingers after the run (--linger) so the
# dashboard can still be looked at; Ctrl-C stops it.
set -eu
build=${1:-build}
port=${IG_DEMO_PORT:-8080}
rate=${IG_DEMO_RATE:-200}

# A port nobody listens on, from $port up.
for _ in $(seq 1 20); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		port=$((port + 1))
	else
		break
	fi
done

made=""
if [ -z "${INGENIUM_API_TOKEN:-}" ]; then
	INGENIUM_API_TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	export INGENIUM_API_TOKEN
	made=1
fi

url="http://127.0.0.1:$port"
echo "------------------------------------------------------------------------"
if [ -n "$made" ]; then
	echo "Dashboard: $url/?token=$INGENIUM_API_TOKEN"
	echo "  (a token made for this run; to choose yours: export INGENIUM_API_TOKEN=...)"
	echo "CLI:       INGENIUM_API_TOKEN=$INGENIUM_API_TOKEN $build/ingenium ctl status --api $url"
else
	echo "Dashboard: $url/  (log in with your \$INGENIUM_API_TOKEN, or $url/?token=...)"
	echo "CLI:       $build/ingenium ctl status --api $url"
fi
echo "Metrics:   curl -H \"Authorization: Bearer \$INGENIUM_API_TOKEN\" $url/metrics"
echo "------------------------------------------------------------------------"

linger=()
if [ -t 0 ] && [ -t 1 ]; then
	linger=(--linger)
fi
exec "$build/ingenium" run -c config/ingenium.yaml --summary-json "$build/summary.json" \
	--set "api.listen=127.0.0.1:$port" --set "feed.rate=$rate" "${linger[@]}"
