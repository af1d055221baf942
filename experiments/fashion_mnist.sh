#!/usr/bin/env bash
# The published answer in results/fashion_mnist/: `python -m study.run` with the `cpu` preset as
# a family of three training budgets in one storage (issue #39): the published 8-epoch study
# `fashion_mnist` (its first member, finished), then `fashion_mnist/epochs-16` and
# `fashion_mnist/epochs-32`, each searched (warm-started from the shorter budget's best trials)
# and selected, then the paired confirmation at 16 epochs; the live storage is
# studies/fashion_mnist.db; reports and a consistent copy of the storage (written every 10
# minutes and after each step) go to $RESULTS (default results/fashion_mnist/). The plan and
# its cost are in experiments/fashion_mnist_history.md (copied into the results README).
#
# Resumable: run it again, in a new session too, and it goes on from what the storage holds; a
# missing live storage is first restored from the committed copy. Run it from its own worktree
# of a committed main, so every trial and rerun records a clean commit (a results/ storage is
# refused from uncommitted code), with RESULTS pointing at the checkout you commit from:
#   git worktree add --detach ../run main && cd ../run
#   RESULTS=/work/main/results/fashion_mnist WORKERS=2 nohup setsid nice -n 19 bash \
#     experiments/fashion_mnist.sh >> studies/fashion_mnist.out 2>&1 &
# then `echo 19 > /proc/PID/autogroup` (under setsid nice alone does not yield the CPU). Stop
# it with `pkill -TERM -f "study.run --preset cpu"`: the running rerun is dropped and trained
# again on the next run.
# `bash experiments/fashion_mnist.sh publish`, once stopped, writes what the live storage holds
# so far (copy, the family's analysis, README), ready to commit; LIVE=PATH names a live
# storage elsewhere (the run's worktree: LIVE=../run/studies/fashion_mnist.db).
set -Eeuo pipefail  # -E: the ERR trap also fires inside `family`
cd "$(dirname "$0")/.."

RESULTS=${RESULTS:-results/fashion_mnist}
LIVE=${LIVE:-studies/fashion_mnist.db}
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

# A consistent copy of the live storage in $RESULTS, analysed there as the run's last step
# analyses the family (each member's report, then budgets.md/.json), and its README.
publish() {
  "$PY" -m study.snapshot "$LIVE" "$RESULTS/study.db" >/dev/null
  # The copy replaced the one whose artifacts these were: the analysis uploads them anew.
  rm -rf "$RESULTS/study-artifacts"
  step "published what $LIVE holds so far"
  "$PY" -m analysis --study-name "$STUDY" --storage "sqlite:///$RESULTS/study.db" \
    --out "$RESULTS" --budgets
  describe
}

if [ "${1:-}" = publish ]; then
  [ -f "$LIVE" ] || { echo "publish: no live storage $LIVE to publish" >&2; exit 2; }
  publish
  exit 0
fi

# The first publication's confirmation (105 "before", 55 "after" unpaired reruns, stopped at a
# Welch half-width of 0.5 pp) keeps its reruns under a name that says what it was; the paired
# confirmation of the re-publication takes the name `$STUDY/confirm`.
if [ -f "$LIVE" ]; then
  "$PY" -m study.rename "$STUDY/confirm" "$STUDY/confirm-first-publication-unpaired" --once \
    --storage "sqlite:///$LIVE" | while read -r line; do step "$line"; done
fi

# The first member: 48 search trials (the preset's 24 at first publication, resumed to twice
# the budget), each placement's top 3 rerun with 3 seeds on validation, the picks rerun paired on
# the test split until the anytime-valid verdict decided (30 pairs; finished, so its selection
# keeps its settings and it is not confirmed again). The longer members: 12 and 8 trials (2 per
# value queued from the shorter budget), each value's top 2 rerun with 3 seeds, and the paired
# confirmation at 16 epochs until decided or 40 pairs.
family() {
  "$PY" -m study.run --preset cpu --study-name "$STUDY" --storage "sqlite:///$LIVE" \
    --budgets 8,16,32 --budget-trials 48,12,8 --warm-start 2 --confirm-budgets 16 \
    --top-k 2 --select-seeds 3 --max-reruns 40 "$@"
}
# WORKERS=N (default 1) runs N copies of the command on the one storage, sharing every step's
# trials and reruns (README, "Many machines"), each on one TensorFlow thread: on this 2-core
# machine two one-thread workers trained 1.5x the reruns an hour of one two-thread worker
# (benchmarks/README.md, section 12). Only the first writes $RESULTS and the snapshots; the
# others report into studies/worker-K/ and log to studies/worker-K.out.
WORKERS=${WORKERS:-1}
step "run started: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $WORKERS worker(s)"
trap 'step "run stopped (it resumes when run again)"' ERR
others=()
if [ "$WORKERS" -gt 1 ]; then
  export TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1
  for index in $(seq 2 "$WORKERS"); do
    family --out "studies/worker-$index" >> "studies/worker-$index.out" 2>&1 &
    others+=($!)
  done
fi
family --out "$RESULTS" --snapshot "$RESULTS/study.db"
for pid in "${others[@]}"; do wait "$pid"; done
trap - ERR
step "run ended"
if [ "$WORKERS" -gt 1 ]; then
  publish  # with what another worker stored after the first one's analysis
else
  describe
fi
