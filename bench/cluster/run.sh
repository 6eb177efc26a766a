#!/usr/bin/env bash
# Capacity benchmark of the local cluster (bench/README.md, "Local cluster
# (issue 14)"): SIPp calls through Kamailio into deploy/local-cluster at a
# series of call rates, with the CPU of every process kind per call.
#
#   bench/cluster/run.sh                         # up, 5,10,20,40 calls/s x 40 s, down
#   bench/cluster/run.sh -rates 10,20 -secs 30   # flags go to the Go program (go run ./bench/cluster -h)
#
# It uses the cluster of VOXFLOW_CLUSTER_DIR when one runs there (and leaves
# it running); otherwise it brings one up with `cluster up` and takes it down
# at the end (KEEP=1 leaves it up). Pick your own directory and port block
# on a shared machine:
#
#   VOXFLOW_CLUSTER_DIR=/tmp/my-cluster VOXFLOW_CLUSTER_PORT_BASE=28000 bench/cluster/run.sh
#
# Needs what the cluster needs (deploy/README.md, "Local cluster") and SIPp
# (apt-get install -y sip-tester).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CLUSTER=$ROOT/deploy/local-cluster/cluster
export VOXFLOW_CLUSTER_DIR=${VOXFLOW_CLUSTER_DIR:-${TMPDIR:-/tmp}/voxflow-cluster}

log() { echo "bench/cluster: $*" >&2; }

started=0
if status=$("$CLUSTER" status 2>/dev/null); then
	if grep -q ' stopped ' <<<"$status"; then
		echo "$status" >&2
		log "the cluster in $VOXFLOW_CLUSTER_DIR is partly stopped: run '$CLUSTER down' first"
		exit 1
	fi
	log "using the cluster running in $VOXFLOW_CLUSTER_DIR"
else
	"$CLUSTER" up
	started=1
	if [[ -z "${KEEP:-}" ]]; then
		trap '"$CLUSTER" down' EXIT
	fi
fi
eval "$("$CLUSTER" env)"

bin=$VOXFLOW_CLUSTER_DIR/bin/clusterbench
(cd "$ROOT" && go build -o "$bin" ./bench/cluster)
log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
(cd "$ROOT" && "$bin" "$@")
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if ((started)) && [[ -n "${KEEP:-}" ]]; then
	log "KEEP=1: the cluster stays up; '$CLUSTER down' stops it"
fi
