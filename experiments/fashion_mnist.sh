#!/usr/bin/env bash
# The published answer in results/fashion_mnist/: search, confirm and analysis on Fashion-MNIST
# with the `cpu` preset. Resumable: run it again (in a new session too) and every step goes on
# from what the storage holds. The live storage is studies/fashion_mnist.db; a consistent copy
# of it (SQLite's backup API) is written to results/fashion_mnist/study.db every
# $SNAPSHOT_SECONDS and after each step, and restored from there when the live one is missing.
#
# In the background: `nohup setsid nice -n 19 bash experiments/fashion_mnist.sh >>
# studies/fashion_mnist.out 2>&1 &`. A background job ignores Ctrl-C's SIGINT, so stop it with
# `pkill -TERM -f "study.search --preset cpu"`: the running trial stays RUNNING in the storage
# and the next run fails it after its heartbeat's grace period (120 s) and trains it again.
# Under `setsid` the job is its own scheduling group, where nice alone does not yield the CPU
# to other work; `echo 19 > /proc/PID/autogroup` does.
set -euo pipefail
cd "$(dirname "$0")/.."

RESULTS=results/fashion_mnist
LIVE=studies/fashion_mnist.db
STUDY=fashion_mnist
# Reruns per placement in study.confirm. 8 is the issue's floor. The first 5 of each placement
# projected a 95% CI half-width of 0.53 pp at 8, so the run went to 10; at 10 it measured
# 0.74 pp (one "before" seed at 83.6% raised that placement's std to 1.0 pp), which projects
# 0.49 pp at 20 and 0.45 pp at 24, so the run goes on to 24. At 11 a second bad "before" seed
# (78.6%) widened it to 1.7 pp: 24 may settle the verdict but not the half-width (README).
SEEDS=${SEEDS:-24}
SNAPSHOT_SECONDS=${SNAPSHOT_SECONDS:-600}
PY=.venv/bin/python
LOG=$RESULTS/steps.log

make setup
mkdir -p "$RESULTS" studies
# The copy, then the README that describes it (experiments/results_readme.py).
snapshot() {
  "$PY" -m study.snapshot "$LIVE" "$RESULTS/study.db" >/dev/null
  describe
}
describe() {
  "$PY" experiments/results_readme.py --storage "sqlite:///$RESULTS/study.db" \
    --study-name "$STUDY" --results "$RESULTS" --command "bash experiments/fashion_mnist.sh"
}
step() { echo "$(date -u '+%Y-%m-%d %H:%M:%S UTC') $*" | tee -a "$LOG"; }

if [ ! -f "$LIVE" ] && [ -f "$RESULTS/study.db" ]; then
  "$PY" -m study.snapshot "$RESULTS/study.db" "$LIVE" >/dev/null
  step "restored $LIVE from $RESULTS/study.db"
fi

( while sleep "$SNAPSHOT_SECONDS"; do [ -f "$LIVE" ] && snapshot; done ) &
snapshot_loop=$!
finished=no
stopped() {
  kill $snapshot_loop 2>/dev/null || true
  [ "$finished" = yes ] || step "stopped before the end (it resumes when run again)"
}
trap stopped EXIT

step "search started: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"$PY" -m study.search --preset cpu --study-name "$STUDY" --storage "sqlite:///$LIVE"
snapshot
step "search ended"

step "confirm started: $SEEDS seeds per placement"
"$PY" -m study.confirm --study-name "$STUDY" --storage "sqlite:///$LIVE" --seeds "$SEEDS"
snapshot
step "confirm ended"

step "analysis started"
"$PY" -m analysis --study-name "$STUDY" --storage "sqlite:///$RESULTS/study.db" --out "$RESULTS"
step "analysis ended"
describe  # analysis wrote its dashboard note into the copy: do not overwrite it
finished=yes
