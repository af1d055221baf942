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
#
# `bash experiments/fashion_mnist.sh publish`, once the run is stopped, publishes what the
# live storage holds so far (snapshot, analysis, README), as the end of a run does: the files
# in results/ then agree with each other, ready to commit, and the run resumes as before.
set -euo pipefail
cd "$(dirname "$0")/.."

RESULTS=results/fashion_mnist
LIVE=studies/fashion_mnist.db
STUDY=fashion_mnist
# Reruns per placement in study.confirm. 8 is the issue's floor; the issue also asks for a
# 95% CI half-width of the difference <= 0.5 pp, with more seeds where the noise needs them.
# The first 5 of each placement projected 0.53 pp at 8, so the run went to 10; at 10 it
# measured 0.74 pp (projected 0.45 pp at 24, so it went on to 24); then two bad "before" seeds
# of 12 (78.6%, 80.7%) raised that placement's std to 2.7 pp, which projects 0.5 pp only near
# 120 seeds per placement with equal counts (about 123 at 55 seeds). From 55 reruns of each
# placement on, reruns are allocated by spread (study/reruns/allocation.py): "before" (std 2.75
# pp) gets each next rerun while one more of its reruns narrows the interval more than one of
# "after" (std 0.54 pp) would; that projects 0.5 pp at about 129 "before" reruns beside 55
# "after": 74 more reruns, where equal counts needed about 137. So at most 140 per placement.
# `publish` at the end of each session keeps results/ showing what the seeds so far say.
# The run was stopped by hand at 105 "before" and 55 "after" reruns, once the half-width was at
# most 0.5 pp (first at 104); HALF_WIDTH makes that stop part of the command, so running it
# again trains no more reruns: the interval is already as narrow as the issue asks.
SEEDS=${SEEDS:-140}
ALLOCATION=${ALLOCATION:-by-spread}
HALF_WIDTH=${HALF_WIDTH:-0.005}
SNAPSHOT_SECONDS=${SNAPSHOT_SECONDS:-600}
PY=.venv/bin/python
LOG=$RESULTS/steps.log

make setup
mkdir -p "$RESULTS" studies
# The copy, then the README that describes it (experiments/results_readme.py).
snapshot() {
  copy_live
  describe
}
copy_live() { "$PY" -m study.snapshot "$LIVE" "$RESULTS/study.db" >/dev/null; }
describe() {
  "$PY" experiments/results_readme.py --storage "sqlite:///$RESULTS/study.db" \
    --study-name "$STUDY" --results "$RESULTS" --command "bash experiments/fashion_mnist.sh"
}
step() { echo "$(date -u '+%Y-%m-%d %H:%M:%S UTC') $*" | tee -a "$LOG"; }
# The verdict from the copy; analysis writes its dashboard note into the copy, so the README
# is written after it and the copy is not overwritten.
analyse() {
  step "analysis started"
  "$PY" -m analysis --study-name "$STUDY" --storage "sqlite:///$RESULTS/study.db" --out "$RESULTS"
  step "analysis ended"
  describe
}

if [ ! -f "$LIVE" ] && [ -f "$RESULTS/study.db" ]; then
  "$PY" -m study.snapshot "$RESULTS/study.db" "$LIVE" >/dev/null
  step "restored $LIVE from $RESULTS/study.db"
fi

if [ "${1:-}" = publish ]; then
  [ -f "$LIVE" ] || { echo "publish: no live storage $LIVE to publish" >&2; exit 2; }
  copy_live
  step "published what $LIVE holds so far"
  analyse
  exit 0
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

step "confirm started: up to $SEEDS seeds per placement, allocated $ALLOCATION, until a half-width of $HALF_WIDTH"
"$PY" -m study.confirm --study-name "$STUDY" --storage "sqlite:///$LIVE" --seeds "$SEEDS" \
  --allocation "$ALLOCATION" --stop-at-half-width "$HALF_WIDTH"
snapshot
step "confirm ended"

analyse
finished=yes
