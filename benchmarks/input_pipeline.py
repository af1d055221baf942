"""Training fed by the host-side tf.data pipeline against training on the same images in memory.

One Fashion-MNIST training subset (`load_splits`), one compiled MobileNetV2 (alpha 0.35, BN
before), one epoch per timed `fit` call. The feeds:
- in memory: `prepare_arrays` (resized, 3 channels, [-1, 1], float32) done once, fed as
  `tf.data.Dataset.from_tensor_slices(...).batch(...)`: what training costs with no pipeline work;
- make_dataset: `host_feed.host_dataset`, the study's pipeline before resizing moved into the
  model (shuffle, batch, resize per batch, prefetch), training=True;
- make_dataset + augment: the same with flips and shifts, for information.
Each feed is warmed up with one epoch, then the feeds are timed interleaved and the median epoch
is reported. The pipelines are also timed alone (iterated without training), with and without
`.cache()` of the preprocessed batches, to show whether caching could matter.

    .venv/bin/python benchmarks/input_pipeline.py [--train-size 8192] [--reps 5]
"""

from __future__ import annotations

import argparse
import time

import _common  # noqa: F401  (environment before TensorFlow)
from _common import interleave, machine_line, median, print_table, verdict

TARGET_RATIO = 0.95


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=8192)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--alpha", type=float, default=0.35)
    parser.add_argument("--reps", type=int, default=5, help="timed epochs per feed")
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf
    from host_feed import host_dataset, prepare_arrays

    from study.data.splits import load_splits
    from study.model.mobilenet_v2 import build_mobilenet_v2

    splits = load_splits(train_size=args.train_size, val_size=256, seed=0)
    images, labels = splits.train_images, splits.train_labels
    pixels = prepare_arrays(images, image_size=args.image_size)
    feeds = {
        "in memory (prepare_arrays)":
            tf.data.Dataset.from_tensor_slices((pixels, labels)).batch(args.batch_size),
        "make_dataset": host_dataset(images, labels, image_size=args.image_size,
                                     batch_size=args.batch_size, training=True),
        "make_dataset, augment": host_dataset(images, labels, image_size=args.image_size,
                                              batch_size=args.batch_size, training=True,
                                              augment=True),
    }

    # Pipelines alone: how fast each can produce batches when nothing else runs.
    def iterate_seconds(dataset: tf.data.Dataset) -> float:
        start = time.perf_counter()
        for _ in dataset:
            pass
        return time.perf_counter() - start

    alone = dict(feeds)
    alone["make_dataset, training=False, .cache()"] = host_dataset(
        images, labels, image_size=args.image_size, batch_size=args.batch_size,
        training=False).cache()
    for dataset in alone.values():
        iterate_seconds(dataset)  # warm-up; fills the cache
    alone_seconds = interleave({name: (lambda d=dataset: iterate_seconds(d))
                                for name, dataset in alone.items()}, args.reps)

    keras.utils.set_random_seed(0)
    shape = (args.image_size, args.image_size, 3)
    model = build_mobilenet_v2(shape, splits.num_classes, alpha=args.alpha)
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])

    def epoch_seconds(dataset: tf.data.Dataset) -> float:
        start = time.perf_counter()
        model.fit(dataset, epochs=1, shuffle=False, verbose=0)
        return time.perf_counter() - start

    warmup = {name: epoch_seconds(dataset) for name, dataset in feeds.items()}
    seconds = interleave({name: (lambda d=dataset: epoch_seconds(d))
                          for name, dataset in feeds.items()}, args.reps)

    count = len(images)
    reference = count / median(seconds["in memory (prepare_arrays)"])
    rows = []
    for name in feeds:
        throughput = count / median(seconds[name])
        rows.append([name, round(warmup[name], 1), throughput,
                     f"{throughput / reference:.3f}", count / median(alone_seconds[name])])
    print(machine_line())
    print(f"Fashion-MNIST train subset {count} images -> {args.image_size}x{args.image_size}x3, "
          f"batch {args.batch_size}, MobileNetV2 alpha {args.alpha}, Nesterov SGD; "
          f"{args.reps} interleaved epochs per feed after a warm-up epoch\n")
    print_table(["feed", "warm-up epoch s", "train img/s (median)", "ratio vs in memory",
                 "pipeline alone img/s"], rows)
    cached = "make_dataset, training=False, .cache()"
    print(f"\npipeline alone, {cached}: {count / median(alone_seconds[cached]):,.0f} img/s")
    ratio = (count / median(seconds["make_dataset"])) / reference
    print(f"make_dataset / in memory: {ratio:.3f} (target >= {TARGET_RATIO}): "
          f"{verdict(ratio, TARGET_RATIO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
