"""Training throughput of our MobileNetV2 (`study.model.mobilenet_v2`) against keras.applications'.

Both models get the same random in-memory data (32x32x3, 10 classes), batch size, optimizer
(plain SGD), loss and metric. Each model is warmed up with one `fit` call (tracing the train step
is excluded), then timed over `--reps` further `fit` calls of `--steps` steps each. The models are
timed interleaved (A B C, C B A, ...) so that load drift on a shared machine cancels out, and
the median of the repetitions is reported; the verdict uses the median of per-repetition
ratios (each of our calls against the keras.applications call beside it). keras.applications
has no BN placement switch: both placements of ours are compared against its one model (BN
before ReLU6).

    .venv/bin/python benchmarks/model_throughput.py [--alphas 0.35 1.0] [--steps 16] [--reps 5]
"""

from __future__ import annotations

import argparse
import time

import _common  # noqa: F401  (environment before TensorFlow)
from _common import interleave, machine_line, median, print_table, verdict

TARGET_RATIO = 0.97
NUM_CLASSES = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.35, 1.0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=16, help="train steps per timed fit call")
    parser.add_argument("--reps", type=int, default=5, help="timed fit calls per model")
    args = parser.parse_args(argv)

    import keras
    import numpy as np

    from study.model.mobilenet_v2 import build_mobilenet_v2

    rng = np.random.default_rng(0)
    images = args.steps * args.batch_size
    shape = (args.image_size, args.image_size, 3)
    x = rng.uniform(-1, 1, (images, *shape)).astype(np.float32)
    y = rng.integers(0, NUM_CLASSES, images).astype(np.int32)

    def compiled(model: keras.Model) -> keras.Model:
        model.compile(optimizer=keras.optimizers.SGD(0.01),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        return model

    def fit_seconds(model: keras.Model) -> float:
        start = time.perf_counter()
        model.fit(x, y, batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0)
        return time.perf_counter() - start

    rows, ratios = [], []
    for alpha in args.alphas:
        keras.utils.set_random_seed(0)
        models = {
            "keras.applications": compiled(keras.applications.MobileNetV2(
                input_shape=shape, alpha=alpha, weights=None, classes=NUM_CLASSES,
                classifier_activation=None)),
            "ours, BN before": compiled(build_mobilenet_v2(shape, NUM_CLASSES, alpha=alpha,
                                                           bn_position="before")),
            "ours, BN after": compiled(build_mobilenet_v2(shape, NUM_CLASSES, alpha=alpha,
                                                          bn_position="after")),
        }
        warmup = {name: fit_seconds(model) for name, model in models.items()}  # traces
        seconds = interleave({name: (lambda m=model: fit_seconds(m))
                              for name, model in models.items()}, args.reps)
        reference = images / median(seconds["keras.applications"])
        for name, model in models.items():
            throughput = images / median(seconds[name])
            ratio = throughput / reference
            spread = [images / s for s in seconds[name]]
            # Per repetition, against the keras.applications call next to it: drift cancels.
            paired = median([k / s for k, s in zip(seconds["keras.applications"], seconds[name],
                                                   strict=True)])
            if name != "keras.applications":
                ratios.append(paired)
            rows.append([alpha, name, model.count_params(), round(warmup[name], 1),
                         throughput, f"{min(spread):,.0f}-{max(spread):,.0f}", f"{ratio:.3f}",
                         f"{paired:.3f}"])

    print(machine_line())
    print(f"train steps, batch {args.batch_size}, {args.image_size}x{args.image_size}x3, SGD, "
          f"{args.steps} steps x {args.reps} interleaved reps after a warm-up fit\n")
    print_table(["alpha", "model", "params", "warm-up fit s", "img/s (median)", "img/s range",
                 "ratio of medians", "median paired ratio"], rows)
    worst = min(ratios)
    print(f"\nworst median paired ratio ours/keras.applications: {worst:.3f} "
          f"(target >= {TARGET_RATIO}): {verdict(worst, TARGET_RATIO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
