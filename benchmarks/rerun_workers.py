"""Confirmation reruns per hour: one worker with two threads against two workers with one each.

Both layouts run the real `python -m study.confirm` (paired, `--stop all`) on the same finished
search: each value's best trial at the cpu preset's model size (MobileNetV2 alpha 1.0, 32x32,
batch 128, as the published picks), with fewer images and epochs per rerun than the preset
(flags) so that a comparison fits in minutes. "1x2": one process, TensorFlow's intra-op pool
at 2 threads; "2x1": two processes on the same SQLite storage, each at 1 intra-op thread,
sharing the reruns through the storage (`study.reruns.workers`). The layouts alternate (A B,
B A, ...), each on a fresh study in one storage.

A layout's rate is its reruns over the span from the first rerun's start to the last one's end
(read from the storage: start-up, imports and data loading excluded, as they are once per
worker and vanish in a long step), and, for the record, over the wall time of its processes.

    .venv/bin/python benchmarks/rerun_workers.py [--reruns 4] [--reps 1] [--train-size 10000]
        [--epochs 1] [--alpha 1.0]
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO_ROOT, machine_line, median, print_table

# Sets the thread pool before TensorFlow initializes, then runs the real command.
_WORKER = """
import sys
import tensorflow as tf
threads = int(sys.argv.pop(1))
tf.config.threading.set_intra_op_parallelism_threads(threads)
tf.config.threading.set_inter_op_parallelism_threads(threads)
from study.confirm import main
raise SystemExit(main(sys.argv[1:]))
"""
LAYOUTS = {"1x2": (1, 2), "2x1": (2, 1)}  # (processes, threads each)


def _searched(url: str, name: str, args: argparse.Namespace) -> None:
    """A finished search as the confirmation reads it: its record and one trial per value."""
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    from study.config import preset
    from study.engine.search_run import open_study
    from study.storage.contract import SCIENTIFIC_PARAM
    from study.storage.opener import open_storage

    config = preset("cpu", train_size=args.train_size, epochs=args.epochs, storage=url,
                    study_name=name)
    search = open_study(config, open_storage(url), dataclasses.asdict(config),
                        scientific_param=SCIENTIFIC_PARAM)
    for placement, value in (("before", 0.86), ("after", 0.84)):
        search.add_trial(optuna.trial.create_trial(
            params={"bn_position": placement, "learning_rate": 0.05, "alpha": args.alpha},
            distributions={"bn_position": CategoricalDistribution(["before", "after"]),
                           "learning_rate": FloatDistribution(1e-4, 0.5, log=True),
                           "alpha": CategoricalDistribution([0.35, 0.5, 0.75, 1.0])},
            value=value))


def _run_layout(layout: str, url: str, name: str, args: argparse.Namespace, folder: Path
                ) -> dict[str, float]:
    """Runs one layout's workers to the end; its rates and wall time."""
    import optuna
    from optuna.trial import TrialState

    processes, threads = LAYOUTS[layout]
    _searched(url, name, args)
    command = [sys.executable, "-c", _WORKER, str(threads), "--storage", url, "--study-name",
               name, "--stop", "all", "--max-reruns", str(args.reruns // 2)]
    start = time.perf_counter()
    workers = []
    for index in range(processes):
        log = open(folder / f"{name}-w{index}.log", "w")
        workers.append((subprocess.Popen(command, cwd=REPO_ROOT, stdout=log,
                                         stderr=subprocess.STDOUT), log))
    for worker, log in workers:
        code = worker.wait()
        log.close()
        if code != 0:
            raise SystemExit(f"{layout} worker exited {code}; see {log.name}")
    wall = time.perf_counter() - start
    trials = optuna.load_study(study_name=f"{name}/confirm", storage=url).get_trials(
        states=(TrialState.COMPLETE,))
    span = (max(t.datetime_complete for t in trials)
            - min(t.datetime_start for t in trials)).total_seconds()
    train = median([t.user_attrs["train_seconds"] for t in trials])
    return {"reruns": len(trials), "span": span, "wall": wall, "train": train,
            "per_hour": 3600 * len(trials) / span, "per_hour_wall": 3600 * len(trials) / wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", type=int, default=4,
                        help="reruns per layout and repetition (even: pairs of the design)")
    parser.add_argument("--reps", type=int, default=1, help="repetitions of both layouts")
    parser.add_argument("--train-size", type=int, default=10_000, help="images per rerun")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per rerun")
    parser.add_argument("--alpha", type=float, default=1.0, help="the picks' width")
    args = parser.parse_args()
    if args.reruns < 2 or args.reruns % 2:
        parser.error(f"--reruns must be even and at least 2 (pairs), got {args.reruns}")

    print(machine_line())
    print(f"reruns of MobileNetV2 alpha {args.alpha}, {args.train_size:,} images x "
          f"{args.epochs} epoch(s), then the 10,000 test images; {args.reruns} reruns per "
          f"layout, {args.reps} repetition(s)")
    results: dict[str, list[dict[str, float]]] = {layout: [] for layout in LAYOUTS}
    with tempfile.TemporaryDirectory(prefix="rerun_workers-") as folder:
        url = f"sqlite:///{folder}/bench.db"
        for rep in range(args.reps):
            order = list(LAYOUTS) if rep % 2 == 0 else list(LAYOUTS)[::-1]
            for layout in order:
                measured = _run_layout(layout, url, f"{layout}-{rep}", args, Path(folder))
                results[layout].append(measured)
                print(f"rep {rep} {layout}: {measured['reruns']:.0f} reruns, span "
                      f"{measured['span']:.0f} s, wall {measured['wall']:.0f} s, median "
                      f"training {measured['train']:.0f} s a rerun", flush=True)

    rows = []
    for layout, runs in results.items():
        processes, threads = LAYOUTS[layout]
        rows.append([layout, processes, threads, median([r["per_hour"] for r in runs]),
                     median([r["per_hour_wall"] for r in runs]),
                     median([r["train"] for r in runs])])
    print()
    print_table(["layout", "processes", "threads each", "reruns/h (span)", "reruns/h (wall)",
                 "training s a rerun"], rows)
    ratio = median([b["per_hour"] / a["per_hour"]
                    for a, b in zip(results["1x2"], results["2x1"], strict=True)])
    faster = "two one-thread workers train" if ratio > 1 else "one two-thread worker trains"
    print(f"\n2x1 against 1x2, reruns per hour (span, median of paired repetitions): "
          f"{ratio:.2f}x: {faster} more reruns an hour on this machine")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
