"""Resizing on the host or in the model: training throughput of the two input paths, side by side.

One Fashion-MNIST training subset (28x28 uint8, `load_splits`), MobileNetV2 (alpha 0.35 by
default, BN before, Nesterov SGD), one epoch per timed `fit` call. Two feeds per backend:
- host: the images resized, copied to 3 channels and scaled on the host, as float32 at the
  trial's size: `host_feed.host_dataset` (tf.data, per batch) on TensorFlow,
  `host_feed.prepare_arrays` (numpy, once) on the other backends;
- in model: the stored uint8 images (`study.data.pipeline.make_dataset` on TensorFlow, the arrays
  themselves elsewhere) and the model's first layer (`study.model.preprocessing`) does the rest.
With `--augment`, both feeds also augment (tf.data on the host where there is TensorFlow; the
host path of other backends cannot, so it is left out there). Each model is warmed up with one
epoch, then the feeds are timed interleaved (A B, B A, ...); medians and the ratio in model /
host are reported.

    KERAS_BACKEND=tensorflow .venv/bin/python benchmarks/input_path.py [--image-size 32]
        [--train-size 4096] [--reps 3] [--augment]
"""

from __future__ import annotations

import argparse

import _common  # noqa: F401  (environment before Keras)
from _common import interleave, machine_line, median, print_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=4096)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--alpha", type=float, default=0.35)
    parser.add_argument("--reps", type=int, default=3, help="timed epochs per feed")
    parser.add_argument("--augment", action="store_true", help="time augmented feeds too")
    args = parser.parse_args(argv)

    import time

    import keras
    from host_feed import host_dataset, prepare_arrays

    from study.data.pipeline import make_dataset
    from study.data.splits import load_splits
    from study.model.mobilenet_v2 import build_mobilenet_v2
    from study.model.preprocessing import Preprocessing

    backend = keras.backend.backend()
    splits = load_splits(train_size=args.train_size, val_size=256, seed=0)
    images, labels = splits.train_images, splits.train_labels
    size = args.image_size

    # name -> (fit arguments, model preprocessing or None for float inputs)
    feeds: dict[str, tuple[dict[str, object], Preprocessing | None]] = {}
    for augment in (False, True) if args.augment else (False,):
        suffix = ", augment" if augment else ""
        if backend == "tensorflow":
            host = host_dataset(images, labels, image_size=size, batch_size=args.batch_size,
                                training=True, augment=augment)
            feeds["host (make_dataset)" + suffix] = ({"x": host}, None)
            stored = make_dataset(images, labels, batch_size=args.batch_size, training=True)
            feeds["in model (uint8 batches)" + suffix] = (
                {"x": stored}, Preprocessing(size, augment=augment))
        else:
            if not augment:
                feeds["host (prepare_arrays)"] = (
                    {"x": prepare_arrays(images, image_size=size), "y": labels,
                     "batch_size": args.batch_size}, None)
            feeds["in model (uint8 arrays)" + suffix] = (
                {"x": images, "y": labels, "batch_size": args.batch_size},
                Preprocessing(size, augment=augment))

    models, warmup = {}, {}
    for name, (fit_args, preprocessing) in feeds.items():
        keras.utils.set_random_seed(0)
        shape = images.shape[1:] if preprocessing else (size, size, 3)
        model = build_mobilenet_v2(shape, 10, alpha=args.alpha, preprocessing=preprocessing)
        model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        start = time.perf_counter()
        model.fit(**fit_args, epochs=1, verbose=0)
        warmup[name] = time.perf_counter() - start
        models[name] = model

    def one_epoch(name: str) -> None:
        models[name].fit(**feeds[name][0], epochs=1, verbose=0)

    seconds = interleave({name: (lambda name=name: one_epoch(name)) for name in feeds},
                         args.reps)
    speed = {name: len(images) / median(values) for name, values in seconds.items()}
    rows = []
    for name in feeds:
        host = next((other for other in feeds if other.startswith("host")
                     and other.endswith(", augment") == name.endswith(", augment")), None)
        ratio = round(speed[name] / speed[host], 3) if host else "-"
        rows.append([name, round(warmup[name], 1), speed[name],
                     f"{min(len(images) / s for s in seconds[name]):,.0f}-"
                     f"{max(len(images) / s for s in seconds[name]):,.0f}", ratio])
    print(machine_line())
    print(f"\nbackend {backend}; MobileNetV2 alpha {args.alpha}, 28x28x1 stored -> {size}x{size}"
          f"x3, batch {args.batch_size}, {len(images)} images, {args.reps} timed epochs each:\n")
    print_table(["feed", "warm-up epoch s", "train img/s (median)", "img/s range",
                 "vs host"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
