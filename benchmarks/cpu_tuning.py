"""CPU throughput of MobileNetV2 0.35 at 32x32 by batch size and TensorFlow thread settings.

TensorFlow reads its thread pool sizes once, when it initializes, so every thread setting runs
in its own subprocess (`--child`). Inside one, a fresh model is warmed up at each batch size
(`fit` traces the train step per new batch shape), then the batch sizes are timed interleaved,
each timed `fit` call covering the same `--images` random in-memory images. The first warm-up
fit minus a steady fit of the same images estimates the tracing cost of a new model.

Trials per hour are estimated, not measured: a trial is tracing + epochs x (train images +
validation images / 3) / throughput (evaluation runs about 3x faster than training), for the
smoke preset (4,096 + 1,024 images, 4 epochs) and the cpu preset (54,000 + 6,000, 10 epochs).
The effect of `.cache()` is measured by benchmarks/input_pipeline.py.

    .venv/bin/python benchmarks/cpu_tuning.py [--batch-sizes 64 128 256]
        [--threads default 1/1 1/2 2/1] [--reps 3] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import _common  # noqa: F401  (environment before TensorFlow)
from _common import interleave, machine_line, median, print_table

PRESET_TRIALS = {"smoke": (4096, 1024, 4), "cpu": (54000, 6000, 10)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--threads", nargs="+", default=["default", "1/1", "1/2", "2/1"],
                        help="intra/inter op threads per subprocess, or 'default'")
    parser.add_argument("--images", type=int, default=2048, help="images per timed fit call")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1,
                        help="passes over the thread settings, order reversed each pass")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return _child(args)

    results: dict[str, list[dict]] = {setting: [] for setting in args.threads}
    for round_index in range(args.rounds):
        order = args.threads if round_index % 2 == 0 else args.threads[::-1]
        for setting in order:
            command = [sys.executable, __file__, "--child", setting, "--images", str(args.images),
                       "--reps", str(args.reps), "--batch-sizes",
                       *map(str, args.batch_sizes)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results[setting].append(json.loads(output.strip().splitlines()[-1]))

    rows = []
    reference = None
    for setting in args.threads:
        runs = results[setting]
        tracing = median([run["tracing"] for run in runs])
        for batch_size in args.batch_sizes:
            seconds = [s for run in runs for s in run["seconds"][str(batch_size)]]
            throughput = args.images / median(seconds)
            if reference is None:
                reference = throughput
            estimates = []
            for train, val, epochs in PRESET_TRIALS.values():
                trial_seconds = tracing + epochs * (train + val / 3) / throughput
                estimates.append(f"{3600 / trial_seconds:.1f}")
            rows.append([setting, runs[0]["threads"], batch_size, throughput,
                         f"{throughput / reference:.3f}", tracing, *estimates])
    print(machine_line())
    print(f"MobileNetV2 0.35, 32x32x3, SGD, {args.images} images per timed fit, "
          f"{args.reps} interleaved reps per batch size, {args.rounds} round(s); "
          f"ratio vs the first row\n")
    print_table(["threads", "intra/inter seen", "batch", "train img/s (median)", "ratio",
                 "tracing s", "smoke trials/h (est.)", "cpu-preset trials/h (est.)"], rows)
    best = max(rows, key=lambda row: row[3])
    print(f"\nfastest: threads {best[0]}, batch {best[2]} ({best[3]:,.0f} img/s)")
    return 0


def _child(args: argparse.Namespace) -> int:
    import tensorflow as tf

    if args.child != "default":
        intra, inter = (int(part) for part in args.child.split("/"))
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    import keras
    import numpy as np

    from study.model.mobilenet_v2 import build_mobilenet_v2

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (args.images, 32, 32, 3)).astype(np.float32)
    y = rng.integers(0, 10, args.images).astype(np.int32)
    keras.utils.set_random_seed(0)
    model = build_mobilenet_v2((32, 32, 3), 10, alpha=0.35)
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])

    def fit_seconds(batch_size: int) -> float:
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
        return time.perf_counter() - start

    first = None
    for batch_size in args.batch_sizes:
        seconds = fit_seconds(batch_size)
        first = seconds if first is None else first
    seconds = interleave({str(b): (lambda b=b: fit_seconds(b)) for b in args.batch_sizes},
                         args.reps)
    steady = median(seconds[str(args.batch_sizes[0])])
    threads = (f"{tf.config.threading.get_intra_op_parallelism_threads()}/"
               f"{tf.config.threading.get_inter_op_parallelism_threads()}")
    print(json.dumps({"seconds": seconds, "tracing": first - steady, "threads": threads}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
