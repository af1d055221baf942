"""Compile once per architecture: the same study with `--reuse-compiled` on and off, side by side.

Two worker processes run the same smoke-sized study (default space, 2 epochs, 2,048 training
and 1,024 validation images, same seed), one with reuse on and one with it off, taking turns
trial by trial: this process lets one worker start a trial, waits for it to end, then lets the
other start its own, so load drift on a shared machine falls on both alike. Per trial the
workers store `epoch_seconds` and `compiled_model`; first-epoch extra time = epoch 1 minus
epoch 2 (tracing, or re-instantiating, the train and test steps). Wall time of a study = its
worker's set-up (imports, data, storage) plus its trials' wall times.

    .venv/bin/python benchmarks/reuse_compiled.py [--trials 16] [--train-size 2048]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (environment before TensorFlow)
from _common import REPO_ROOT, machine_line, print_table, verdict

TARGET_EXTRA_SECONDS = 2.0  # median first-epoch extra time of reused trials
TARGET_WALL_RATIO = 0.6  # study wall time with reuse / without
MODES = ("on", "off")
_READY, _DONE = "bench:ready", "bench:trial-done"


def _worker(args: argparse.Namespace) -> int:
    """One study; waits for "go" on stdin before each trial and reports each trial's end."""
    import io

    from study.config import preset
    from study.engine.search_run import run_search
    from study.tuning.tuner import OptunaTuner

    begin, end = OptunaTuner.on_trial_begin, OptunaTuner.on_trial_end

    def gated_begin(self, trial):
        print(_READY, flush=True)
        sys.stdin.readline()  # "go"
        begin(self, trial)

    def reported_end(self, trial):
        end(self, trial)
        print(_DONE, flush=True)

    OptunaTuner.on_trial_begin, OptunaTuner.on_trial_end = gated_begin, reported_end
    config = preset("smoke", storage=args.storage, study_name="reuse", n_trials=args.trials,
                    epochs=2, train_size=args.train_size, val_size=1024,
                    reuse_compiled=args.worker == "on")
    run_search(config, stream=io.StringIO(), freeze_objects=True)
    print(_READY, flush=True)  # no more trials: the parent's last "go" finds the study done
    return 0


def _wait_for(process: subprocess.Popen, marker: str) -> None:
    for line in process.stdout:
        if line.strip() == marker:
            return
    raise RuntimeError(f"the worker ended before {marker!r}: exit {process.wait()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--train-size", type=int, default=2048)
    parser.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--storage", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(args)

    import optuna

    started = time.strftime("%Y-%m-%d %H:%M")
    with tempfile.TemporaryDirectory(prefix="bnstudy-reuse-") as folder:
        storages = {mode: f"sqlite:///{Path(folder) / mode}.db" for mode in MODES}
        workers, setup = {}, {}
        for mode in MODES:  # one at a time, so that set-up is not measured under contention
            clock = time.perf_counter()
            workers[mode] = subprocess.Popen(
                [sys.executable, __file__, "--worker", mode, "--storage", storages[mode],
                 "--trials", str(args.trials), "--train-size", str(args.train_size)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
            _wait_for(workers[mode], _READY)
            setup[mode] = time.perf_counter() - clock
        walls = {mode: [] for mode in MODES}
        for number in range(args.trials):
            for mode in MODES if number % 2 == 0 else MODES[::-1]:
                clock = time.perf_counter()
                workers[mode].stdin.write("go\n")
                workers[mode].stdin.flush()
                _wait_for(workers[mode], _DONE)
                _wait_for(workers[mode], _READY)  # the oracle's work between trials counts too
                walls[mode].append(time.perf_counter() - clock)
        for worker in workers.values():
            worker.stdin.close()
            if worker.wait() != 0:
                raise RuntimeError(f"a worker failed with exit code {worker.returncode}")
        trials = {mode: optuna.load_study(study_name="reuse", storage=storages[mode]).trials
                  for mode in MODES}

    print(machine_line())
    print(f"started {started}; {args.trials} trials per study, 2 epochs of {args.train_size} "
          "train / 1,024 val images, batch 128, 32x32, default space and pruner, seed 0\n")
    rows, extra = [], {}
    for mode in MODES:
        for number, (trial, wall) in enumerate(zip(trials[mode], walls[mode], strict=True)):
            epochs = trial.user_attrs["epoch_seconds"]
            status = trial.user_attrs["compiled_model"]
            first_extra = epochs[0] - epochs[1]
            extra.setdefault((mode, status), []).append(first_extra)
            rows.append([mode, number, trial.params["bn_position"], trial.params["alpha"],
                         status, round(epochs[0], 2), round(epochs[1], 2),
                         round(first_extra, 2), round(wall, 1)])
    print_table(["reuse", "trial", "bn_position", "alpha", "model", "epoch 1 s", "epoch 2 s",
                 "first-epoch extra s", "trial wall s"], rows)
    print()
    summary = [[mode, status, len(values), round(statistics.median(values), 2)]
               for (mode, status), values in sorted(extra.items())]
    print_table(["reuse", "model", "trials", "median first-epoch extra s"], summary)
    totals = {mode: setup[mode] + sum(walls[mode]) for mode in MODES}
    ratio = totals["on"] / totals["off"]
    reused = extra.get(("on", "reused"), [float("nan")])
    print(f"\nstudy wall time (set-up + trials): reuse on {totals['on']:.0f} s "
          f"(set-up {setup['on']:.0f} s), off {totals['off']:.0f} s (set-up "
          f"{setup['off']:.0f} s); ratio {ratio:.3f}, target <= {TARGET_WALL_RATIO}: "
          f"{verdict(ratio, TARGET_WALL_RATIO + 1e-12, at_least=False)}")
    median_reused = statistics.median(reused)
    print(f"median first-epoch extra time of reused trials: {median_reused:.2f} s over "
          f"{len(reused)} trials, target <= {TARGET_EXTRA_SECONDS} s: "
          f"{verdict(median_reused, TARGET_EXTRA_SECONDS + 1e-12, at_least=False)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
