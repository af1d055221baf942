#!/usr/bin/env bash
# The published answer in results/fashion_mnist/: `python -m study.run` with the `cpu` preset,
# the live storage studies/fashion_mnist.db, the report and a consistent copy of the storage
# (written every 10 minutes and after each step) in results/fashion_mnist/. Resumable: run it
# again, in a new session too, and it goes on from what the storage holds; a missing live
# storage is first restored from the committed copy. The run's history and costs are in
# results/fashion_mnist/README.md, written from the storage after the run (and by `publish`).
#
# In the background: `nohup setsid nice -n 19 bash experiments/fashion_mnist.sh >>
# studies/fashion_mnist.out 2>&1 &`, then `echo 19 > /proc/PID/autogroup` (under setsid nice
# alone does not yield the CPU). Stop it with `pkill -TERM -f "study.run --preset cpu"`: the
# running rerun is dropped and trained again on the next run.
# `bash experiments/fashion_mnist.sh publish`, once stopped, writes what the live storage holds
# so far (copy, analysis, README), ready to commit.
set -euo pipefail
cd "$(dirname "$0")/.."

RESULTS=results/fashion_mnist
LIVE=studies/fashion_mnist.db
STUDY=fashion_mnist
PY=.venv/bin/python
LOG=$RESULTS/steps.log

make setup
mkdir -p "$RESULTS" studies
step() { echo "$(date -u '+%Y-%m-%d %H:%M:%S UTC') $*" | tee -a "$LOG"; }
describe() {
  "$PY" experiments/results_readme.py --storage "sqlite:///$RESULTS/study.db" \
    --study-name "$STUDY" --results "$RESULTS" --command "bash experiments/fashion_mnist.sh" \
    --history experiments/fashion_mnist_history.md
}

if [ ! -f "$LIVE" ] && [ -f "$RESULTS/study.db" ]; then
  "$PY" -m study.snapshot "$RESULTS/study.db" "$LIVE" >/dev/null
  step "restored $LIVE from $RESULTS/study.db"
fi

if [ "${1:-}" = publish ]; then
  [ -f "$LIVE" ] || { echo "publish: no live storage $LIVE to publish" >&2; exit 2; }
  "$PY" -m study.snapshot "$LIVE" "$RESULTS/study.db" >/dev/null
  # The copy replaced the one whose artifacts these were: the analysis uploads them anew.
  rm -rf "$RESULTS/study-artifacts"
  step "published what $LIVE holds so far"
  "$PY" -m analysis --study-name "$STUDY" --storage "sqlite:///$RESULTS/study.db" --out "$RESULTS"
  describe
  exit 0
fi

# The first publication's confirmation (105 "before", 55 "after" unpaired reruns, stopped at a
# Welch half-width of 0.5 pp) keeps its reruns under a name that says what it was; the paired
# confirmation of the re-publication takes the name `$STUDY/confirm`.
if [ -f "$LIVE" ]; then
  "$PY" -m study.rename "$STUDY/confirm" "$STUDY/confirm-first-publication-unpaired" --once \
    --storage "sqlite:///$LIVE" | while read -r line; do step "$line"; done
fi

# 48 search trials (the preset's 24 at first publication, resumed to twice the budget), each
# placement's top 3 rerun with 3 seeds on validation, the picks rerun paired on the test split
# until the anytime-valid verdict decides (at least 30 pairs) or 200 pairs.
step "run started: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
trap 'step "run stopped (it resumes when run again)"' ERR
"$PY" -m study.run --preset cpu --n-trials 48 --study-name "$STUDY" --storage "sqlite:///$LIVE" \
  --top-k 3 --select-seeds 3 --max-reruns 200 --out "$RESULTS" --snapshot "$RESULTS/study.db"
trap - ERR
step "run ended"
describe
