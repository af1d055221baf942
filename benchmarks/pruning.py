"""The smoke study with and without pruning: epochs trained, time, best accuracy per placement.

Two studies, same preset, seed and trial count, each in a temporary SQLite file and its own
subprocess running `study.engine.search_run.run_search` (the real search path): `pruner="median"`
(the default: median of the same placement, after 2 finished trials of that placement) and
`pruner="none"`. By default the two run at the same time, so that both see the same machine load;
CPU seconds (user + sys of each subprocess) are reported beside wall time because the study that
finishes first leaves the machine to the other.

How often the median pruner can act is bounded: with `n` trials, half per placement, the first 2
of each placement are never pruned, and a pruned trial still trains its first 2 epochs. So with
trials of 4 epochs at most (n - 4) x 2 of 4n epochs can be saved: 25% with 8 trials, 33% with
12, 40% with 20.

"Within noise" for the best accuracies: the difference is under twice the binomial standard
error of an accuracy measured on the validation images (it ignores seed-to-seed variance, which
is larger, so it is a strict criterion).

    .venv/bin/python benchmarks/pruning.py [--trials 8] [--sequential]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (environment before TensorFlow)
from _common import machine_line, print_table, verdict

TARGET_SAVING = 0.40
PRUNERS = ("median", "none")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=None, help="default: the smoke preset's")
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--val-size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sequential", action="store_true",
                        help="run the two studies one after the other")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--storage", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return _child(args)

    results = {}
    with tempfile.TemporaryDirectory(prefix="bnstudy-bench-") as folder:
        children = {}
        for pruner in PRUNERS:
            command = [sys.executable, __file__, "--child", pruner, "--trials", str(args.trials),
                       "--seed", str(args.seed),
                       "--storage", f"sqlite:///{Path(folder) / f'{pruner}.db'}"]
            for flag in ("epochs", "train_size", "val_size"):
                if getattr(args, flag) is not None:
                    command += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
            out = open(Path(folder) / f"{pruner}.json", "w+")
            started = time.perf_counter()
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL)
            children[process.pid] = (pruner, out, started)
            if args.sequential:
                _collect(children, results, *os.wait4(process.pid, 0))
        while children:
            _collect(children, results, *os.wait4(-1, 0))

    rows = []
    for pruner in PRUNERS:
        result = results[pruner]
        trials = result["trials"]
        best = {}
        for placement in ("before", "after"):
            values = [t["best_val_accuracy"] for t in trials
                      if t["bn_position"] == placement and t["best_val_accuracy"] is not None]
            best[placement] = max(values) if values else float("nan")
        rows.append([pruner, len(trials), sum(t["state"] == "PRUNED" for t in trials),
                     sum(t["epochs_run"] for t in trials), round(result["wall"]),
                     round(result["cpu"]), f"{best['before']:.4f}", f"{best['after']:.4f}"])
        result["best"] = best
        result["epochs"] = sum(t["epochs_run"] for t in trials)

    print(machine_line())
    config = results["median"]["config"]
    print(f"smoke preset: {config['train_size']} train / {config['val_size']} val images, "
          f"{config['epochs']} epochs, {args.trials} trials, seed {args.seed}; studies run "
          f"{'one after the other' if args.sequential else 'at the same time'}\n")
    print_table(["pruner", "trials", "pruned", "epochs trained", "wall s", "CPU s",
                 "best val acc, BN before", "best val acc, BN after"], rows)
    for pruner in PRUNERS:
        print(f"\n{pruner}: " + "; ".join(
            f"#{t['number']} {t['bn_position']} a={t['alpha']} lr={t['learning_rate']:.3g} "
            f"{t['state']} {t['epochs_run']}ep {t['best_val_accuracy'] or float('nan'):.3f}"
            for t in results[pruner]["trials"]))
    saving = 1 - results["median"]["epochs"] / results["none"]["epochs"]
    val_size = config["val_size"]
    gaps = []
    for placement in ("before", "after"):
        p = results["none"]["best"][placement]
        noise = 2 * math.sqrt(max(p * (1 - p), 1e-9) / val_size)
        gaps.append(results["none"]["best"][placement] - results["median"]["best"][placement])
        print(f"\nbest val acc, BN {placement}: none {p:.4f}, median "
              f"{results['median']['best'][placement]:.4f}, gap {gaps[-1]:+.4f} "
              f"(noise: 2 SE = {noise:.4f}): "
              f"{'within noise' if abs(gaps[-1]) <= noise or gaps[-1] < 0 else 'outside noise'}")
    max_saving = _max_saving(args.trials, config["epochs"])
    print(f"\nepochs saved by pruning: {100 * saving:.1f}% (at most {100 * max_saving:.1f}% is "
          f"possible with {args.trials} trials); target >= {100 * TARGET_SAVING:.0f}%: "
          f"{verdict(saving, TARGET_SAVING)}")
    return 0


def _max_saving(trials: int, epochs: int) -> float:
    """Largest share of epochs the placement-wise median pruner can save."""
    from study.tuning.pruning import FIRST_PRUNABLE_EPOCH, MEDIAN_STARTUP_TRIALS

    prunable = sum(max(0, count - MEDIAN_STARTUP_TRIALS)
                   for count in (trials - trials // 2, trials // 2))
    return prunable * max(0, epochs - FIRST_PRUNABLE_EPOCH) / (trials * epochs)


def _collect(children: dict, results: dict, pid: int, status: int, usage) -> None:
    pruner, out, started = children.pop(pid)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the {pruner!r} study failed with status {status}")
    out.seek(0)
    result = json.loads(out.read().strip().splitlines()[-1])
    out.close()
    result.update(wall=wall, cpu=usage.ru_utime + usage.ru_stime)
    results[pruner] = result


def _child(args: argparse.Namespace) -> int:
    from study.config import preset
    from study.engine.search_run import run_search

    config = preset("smoke", storage=args.storage, study_name=f"pruning-{args.child}",
                    pruner=args.child, n_trials=args.trials, seed=args.seed, epochs=args.epochs,
                    train_size=args.train_size, val_size=args.val_size)
    study = run_search(config, stream=io.StringIO())
    trials = []
    for trial in study.get_trials(deepcopy=False):
        attrs = trial.user_attrs
        trials.append({"number": trial.number, "state": trial.state.name,
                       "bn_position": trial.params.get("bn_position"),
                       "alpha": trial.params.get("alpha"),
                       "learning_rate": trial.params.get("learning_rate", float("nan")),
                       "epochs_run": attrs.get("epochs_run", 0),
                       "best_val_accuracy": attrs.get("best_val_accuracy")})
    print(json.dumps({"trials": trials, "config": {"train_size": config.train_size,
                                                   "val_size": config.val_size,
                                                   "epochs": config.epochs}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
