#!/usr/bin/env bash
# bench/scan/run.sh: sipvicious against `voxflow dev` while SIPp places
# legitimate calls. Prints the call success rate, the time from svcrack's
# first request to the ban, and the requests dropped; then a control run
# with bans off (--sip-auth-failures 0) to show what svcrack does without.
#
#   bench/scan/run.sh            # from the repository root
#   CALLS=20 RATE=2 bench/scan/run.sh
#
# Needs sipp, svcrack, svwar, svmap on PATH; loopback only (the attacker is
# 127.0.0.2, the svwar scan 127.0.0.3, callers and phones 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
CALLS=${CALLS:-12} RATE=${RATE:-2}
SIP_PORT=${SIP_PORT:-38060} HTTP_PORT=${HTTP_PORT:-38080} TEMPORAL_PORT=${TEMPORAL_PORT:-38233}
WORK=$(mktemp -d /tmp/voxflow-scan.XXXXXX)
WORDS=$ROOT/e2e/testdata/scan/passwords.txt   # 301 words, the password on line 290
PASSWORD=Tr0ub4dor-1001
BINDFROM=$ROOT/e2e/testdata/scan/bindfrom.py  # svcrack and svwar ignore -b
PY=$(head -1 "$(readlink -f "$(command -v svcrack)")" | sed 's/^#!//')
mkdir -p "$WORK/home"   # sipvicious keeps sessions in ~/.sipvicious: keep them apart
VOXFLOW=${VOXFLOW:-}
if [[ -z $VOXFLOW ]]; then go build -o "$WORK/voxflow" ./cmd/voxflow; else cp "$VOXFLOW" "$WORK/voxflow"; fi
for p in $SIP_PORT $HTTP_PORT $TEMPORAL_PORT; do
	if ss -ltnu | awk '{print $5}' | grep -q ":$p\$"; then echo "port $p is taken: set SIP_PORT, HTTP_PORT, TEMPORAL_PORT" >&2; exit 1; fi
done
DEV_PID=
stop_dev() { if [[ -n $DEV_PID ]]; then kill "$DEV_PID" 2>/dev/null || true; wait "$DEV_PID" 2>/dev/null || true; DEV_PID=; fi; }
trap 'stop_dev' EXIT

# start_dev DIR ARGS...: voxflow dev in DIR with agents 1001 and 1050.
start_dev() {
	local dir=$1; shift
	mkdir -p "$dir"
	(cd "$dir" && exec "$WORK/voxflow" dev --sip 127.0.0.1:$SIP_PORT --http 127.0.0.1:$HTTP_PORT \
		--temporal-port $TEMPORAL_PORT "$@" >dev.log 2>&1) &
	DEV_PID=$!
	for _ in $(seq 100); do
		grep -q "SIP media worker listening" "$dir/dev.log" 2>/dev/null && break
		kill -0 "$DEV_PID" 2>/dev/null || { echo "voxflow dev failed:"; tail -3 "$dir/dev.log"; exit 1; }
		sleep 0.3
	done
	(cd "$dir" && "$WORK/voxflow" agents add 1001 --password "$PASSWORD" >/dev/null &&
		"$WORK/voxflow" agents add 1050 --password another-Secret-50 >/dev/null)
}

metric() { curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | awk -v m="$1" '$1 ~ "^"m"({|$)" {print $2; exit}'; }
svv() { local from=$1 tool=$2; shift 2; HOME=$WORK/home "$PY" "$BINDFROM" "$from" "$tool" -p "$SIP_PORT" "$@" 127.0.0.1; }

echo "== bans on (defaults: 5 failures in 1m ban for 10m)"
start_dev "$WORK/on"
sipp 127.0.0.1:$SIP_PORT -sf bench/sipp/uac_support_line.xml -s 1000 -i 127.0.0.1 -m "$CALLS" -l "$CALLS" -r "$RATE" \
	-nostdin -timeout 120s -timeout_error >"$WORK/sipp.out" 2>&1 &
SIPP=$!
t0=$(date +%s.%N)
svv 127.0.0.2 svcrack -u 1001 -d "$WORDS" --maximumtime 3 >"$WORK/svcrack.out" 2>&1 || true
t1=$(date +%s.%N)
for m in REGISTER OPTIONS INVITE; do
	echo "svwar -m $m (from 127.0.0.3): $(svv 127.0.0.3 svwar -m $m -e 1000-1060 --force 2>&1 | grep -E '^\| [0-9]|found nothing' | tr '\n' ' ')"
done
HOME=$WORK/home svmap -b 127.0.0.3 -p "$SIP_PORT" 127.0.0.1 2>&1 | grep -q "127.0.0.1:$SIP_PORT" && echo "svmap (from 127.0.0.3): sees the server"
wait "$SIPP" || true
ban=$(grep -m1 'msg="sip source banned"' "$WORK/on/dev.log" || true)
ok=$(grep -Eo 'Successful call +\| +[0-9]+ +\| +[0-9]+' "$WORK/sipp.out" | tail -1 | awk '{print $NF}')
echo "ban line: ${ban:-none}"
python3 - "$t0" "$ban" <<'PY'
import sys, datetime
t0, line = float(sys.argv[1]), sys.argv[2]
if line:
    ts = line.split()[0].split("=", 1)[1]
    t = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    print("time to ban: %.0f ms after svcrack started" % ((t - t0) * 1000))
PY
grep -q "$PASSWORD" "$WORK/svcrack.out" && echo "svcrack: FOUND the password" || echo "svcrack: did not find the password ($(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s until it gave up)"
echo "auth failures: $(metric voxflow_sip_auth_failures_total), bans: $(metric voxflow_sip_bans_total), requests dropped: $(metric voxflow_sip_dropped_requests_total)"
echo "legitimate calls during the attack: ${ok:-0}/$CALLS succeeded"
sipp 127.0.0.1:$SIP_PORT -sf bench/sipp/uac_register.xml -s 1001 -au 1001 -ap "$PASSWORD" -i 127.0.0.1 -m 1 -nostdin \
	-timeout 20s -timeout_error >"$WORK/register.out" 2>&1 && echo "real phone (127.0.0.1) registers: yes" || echo "real phone (127.0.0.1) registers: NO"
stop_dev

echo "== control: bans off (--sip-auth-failures 0)"
start_dev "$WORK/off" --sip-auth-failures 0
t0=$(date +%s.%N)
svv 127.0.0.2 svcrack -u 1001 -d "$WORDS" --maximumtime 3 >"$WORK/svcrack-off.out" 2>&1 || true
t1=$(date +%s.%N)
grep -q "$PASSWORD" "$WORK/svcrack-off.out" && echo "svcrack: found the password in $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s" || echo "svcrack: did not find it"
stop_dev
echo "work files: $WORK"
