#!/usr/bin/env bash
# INVITE flood against `voxflow dev` with its default admission limits
# (--max-calls 400, --max-call-rate 40): SIPp offers multiples of the
# measured capacity (bench/README.md, SIP/rate: ~50 calls/s) and each step
# reports admitted calls, 503s, calls without an answer, the admitted
# calls' INVITE->200 p99, their MOS, the process's CPU and whether it kept
# answering OPTIONS probes (a stall shows as lost or slow probes).
#
#   bench/flood/run.sh                              # 2x,5x,20x of 50/s, 3 s each
#   SECS=2 MULTIPLES=2,5 CAPACITY=50 bench/flood/run.sh
#
# Needs SIPp (apt-get install -y sip-tester), curl and jq. Ports: SIP on $SIP_PORT (default
# 27060), HTTP on $HTTP_PORT (27080), Temporal on $TEMPORAL_PORT (27233); a port in use fails the run.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SECS=${SECS:-3}
CAPACITY=${CAPACITY:-50}
MULTIPLES=${MULTIPLES:-2,5,20}
SIP_PORT=${SIP_PORT:-27060}
HTTP_PORT=${HTTP_PORT:-27080}
TEMPORAL_PORT=${TEMPORAL_PORT:-27233}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/voxflow-flood.XXXXXX")
SIP=127.0.0.1:$SIP_PORT
API=http://127.0.0.1:$HTTP_PORT

log() { echo "bench/flood: $*" >&2; }

log "building into $WORK"
(cd "$ROOT" && go build -o "$WORK/voxflow" ./cmd/voxflow && go build -o "$WORK/probe" ./bench/flood/probe)

"$WORK/voxflow" dev --data-dir "$WORK/data" --http "127.0.0.1:$HTTP_PORT" --temporal-port "$TEMPORAL_PORT" \
	--sip "$SIP" >"$WORK/dev.log" 2>&1 &
DEV=$!
trap 'kill $DEV 2>/dev/null; wait $DEV 2>/dev/null; log "logs and SIPp files kept in $WORK"' EXIT
for _ in $(seq 120); do
	curl -fsS "$API/healthz" >/dev/null 2>&1 && break
	sleep 1
done
curl -fsS "$API/healthz" >/dev/null || { log "voxflow dev did not get ready:"; tail -20 "$WORK/dev.log" >&2; exit 1; }

# The flood line: a prompt, then the flow hangs up (about 3 s a call).
flow='name: flood-ivr
entry: welcome
nodes:
  welcome:
    type: play
    say: "Thank you for calling the flood line."
    next: bye
  bye:
    type: hangup
    say: "Goodbye."
'
json() { jq -n --arg v "$2" "{$1: \$v}"; }
api() { curl -fsS -b "$WORK/cookies" -c "$WORK/cookies" -X "$1" -H 'Content-Type: application/json' -H "Origin: $API" -d "$3" "$API/api/v1$2" >/dev/null; }
if first=$(grep -o 'First start: sign in as [^ ]* / [^ ]*' "$WORK/dev.log" | head -1) && [[ -n $first ]]; then
	read -r _ _ _ _ _ user _ password <<<"$first"
	api POST /session "$(jq -n --arg u "$user" --arg p "$password" '{username: $u, password: $p}')"
fi
api POST /flows "$(json source "$flow")"
api POST /flows/flood-ivr/publish '{"note":"bench/flood"}'
api PUT /numbers/8000 '{"flow":"flood-ivr"}'

# metric NAME [LABEL...]: the sum of the samples of NAME that carry every LABEL.
metric() {
	curl -fsS "$API/metrics" | awk -v n="$1" -v f="${*:2}" 'BEGIN { k = split(f, want, " ") }
		index($0, n) == 1 { for (i = 1; i <= k; i++) if (!index($0, want[i])) next; s += $NF }
		END { printf "%.4f\n", s + 0 }'
}
cputicks() { awk '{ print $14 + $15 }' "/proc/$DEV/stat"; }
HZ=$(getconf CLK_TCK)

printf '%-5s %7s %7s %6s %6s %8s %9s %7s %6s %s\n' step offered admitted 503 noans p99_ms mos cpu rss_mb probes
for m in ${MULTIPLES//,/ }; do
	rate=$((m * CAPACITY))
	calls=$((rate * SECS))
	dir=$WORK/x$m
	mkdir -p "$dir"
	ok0=$(metric voxflow_sip_invites_total 'direction="inbound"' 'code="200"')
	re0=$(metric voxflow_sip_invites_total 'direction="inbound"' 'code="503"')
	ms0=$(metric voxflow_media_mos_sum 'stream="received"')
	mc0=$(metric voxflow_media_mos_count 'stream="received"')
	t0=$(date +%s.%N)
	c0=$(cputicks)
	"$WORK/probe" -addr "$SIP" -for "$((SECS + 10))s" >"$dir/probe.txt" &
	probe=$!
	(cd "$dir" && sipp "$SIP" -sf "$HERE/uac_flood.xml" -s 8000 -r "$rate" -m "$calls" -l "$calls" \
		-i 127.0.0.1 -p $((SIP_PORT + 100)) -mp 40000 -nostdin -timeout "$((SECS + 60))s" \
		-trace_rtt -rtt_freq 1 -trace_stat -fd 1 -trace_err >sipp.out 2>&1) || true
	# Wait for the admitted calls to end, then read the figures.
	for _ in $(seq 60); do
		[[ $(metric voxflow_sip_live_calls) == 0.0000 ]] && break
		sleep 1
	done
	c1=$(cputicks)
	t1=$(date +%s.%N)
	wait $probe || true
	ok=$(awk -v a="$(metric voxflow_sip_invites_total 'direction="inbound"' 'code="200"')" -v b="$ok0" 'BEGIN { print a - b }')
	re=$(awk -v a="$(metric voxflow_sip_invites_total 'direction="inbound"' 'code="503"')" -v b="$re0" 'BEGIN { print a - b }')
	mos=$(awk -v s="$(metric voxflow_media_mos_sum 'stream="received"')" -v s0="$ms0" \
		-v c="$(metric voxflow_media_mos_count 'stream="received"')" -v c0="$mc0" \
		'BEGIN { if (c > c0) printf "%.2f", (s - s0) / (c - c0); else print "-" }')
	failed=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "FailedCall(C)") k = i } NR > 1 && k { v = $k } END { print v + 0 }' "$dir"/*_.csv 2>/dev/null || echo '?')
	p99=$(cat "$dir"/*_rtt.csv 2>/dev/null | awk -F';' '$3 == 1 { print $2 }' | sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int(NR * 0.99 + 0.999)]; else print "-" }')
	cpu=$(awk -v c="$((c1 - c0))" -v hz="$HZ" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.2f", c / hz / (t1 - t0) }')
	rss=$(awk '/VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$DEV/status")
	printf '%-5s %7s %7s %6s %6s %8s %9s %7s %6s %s\n' "${m}x" "$calls@$rate/s" "$ok" "$re" "$failed" "$p99" "$mos" "$cpu" "$rss" "$(cat "$dir/probe.txt")"
	sleep 2
done
