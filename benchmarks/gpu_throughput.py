"""Training throughput on a GPU: float32 vs mixed bf16 vs mixed fp16, fed the new way or the old.

MobileNetV2 (`study.model.mobilenet_v2.build_mobilenet_v2`, alpha 1.0, BN before by default) at
224x224, 10 classes, Nesterov SGD as in the bn_placement space, compiled with the Keras default
(`jit_compile="auto"`: XLA on GPUs). Two feeds of the same random 28x28x1 uint8 images (the shape
Fashion-MNIST is stored in):
- new: the uint8 images as stored (784 bytes each) go to the device, and the model's first
  layer resizes them to 224x224, copies them to 3 channels and scales them
  (`study.model.preprocessing`), as the study trains now;
- old: the images resized and scaled on the host (`benchmarks/host_feed.py`), float32
  224x224x3 (602 KB each), as the study fed backends without TensorFlow before.
Both are numpy arrays given to `fit`, like the study's no-TensorFlow path.

One model per (batch size, policy, feed), built and warmed up with one `fit` call (compilation
excluded and reported) in order of importance (batch 128 before 256; float32 and bf16 before
fp16; new feed before old), as long as `--budget` allows: once the longest warm-up so far would
end past 85% of the budget, the remaining models are skipped and listed. Then the models' timed
`fit` calls of `--steps` steps are interleaved (A B C, C B A, ...) so that drift cancels.
Reports median images/s, the ratio to float32 (same batch and feed) and new/old (same batch
and policy), and the issue's bf16 targets as PASS/MISS.

    KERAS_BACKEND=jax python3 benchmarks/gpu_throughput.py [--alpha 1.0] [--image-size 224]
        [--batch-sizes 128 256] [--policies float32 mixed_bfloat16 mixed_float16]
        [--feeds new old] [--steps 20] [--reps 3] [--budget 140]
"""

from __future__ import annotations

import argparse
import itertools
import time

import _common  # noqa: F401  (environment before Keras)
from _common import machine_line, median, print_table, verdict

NUM_CLASSES = 10
STORED_SHAPE = (28, 28, 1)  # Fashion-MNIST as stored
# Warm-ups start only while the longest one so far would end by this share of the budget; the
# rest is for the timed rounds (XLA compiles of alpha 1.0 at 224 on an H200 took 17-81 s).
WARMUP_SHARE = 0.85
BF16_TARGET_RATIO = 1.5  # the target: mixed bf16 >= 1.5x float32
BF16_TARGET_IMAGES_PER_SECOND = 10_000  # on an H100 or H200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--policies", nargs="+",
                        default=["float32", "mixed_bfloat16", "mixed_float16"])
    parser.add_argument("--feeds", nargs="+", choices=("new", "old"), default=["new", "old"])
    parser.add_argument("--bn-position", default="before")
    parser.add_argument("--steps", type=int, default=20, help="train steps per timed fit call")
    parser.add_argument("--reps", type=int, default=3, help="timed fit calls per model")
    parser.add_argument("--budget", type=float, default=140.0,
                        help="seconds for everything; no warm-up or timed round starts that "
                             "would likely end later")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    import keras
    import numpy as np
    from host_feed import prepare_arrays

    from study.model.mobilenet_v2 import build_mobilenet_v2
    from study.model.preprocessing import Preprocessing

    print(machine_line())
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, devices: "
          f"{_devices(keras.backend.backend())}", flush=True)
    rng = np.random.default_rng(0)
    images = args.steps * max(args.batch_sizes)
    stored = rng.integers(0, 256, (images, *STORED_SHAPE), dtype=np.uint8)
    labels = rng.integers(0, NUM_CLASSES, images).astype(np.int32)
    host_floats = None  # made when the first old-feed model is reached (GBs at 224)

    def inputs(feed: str, batch_size: int) -> tuple[object, object]:
        nonlocal host_floats
        count = args.steps * batch_size
        if feed == "new":
            return stored[:count], labels[:count]
        if host_floats is None:
            host_floats = prepare_arrays(stored, image_size=args.image_size)
        return host_floats[:count], labels[:count]

    def fit_seconds(key: tuple[int, str, str]) -> float:
        batch_size, _, feed = key
        x, y = inputs(feed, batch_size)
        start = time.perf_counter()
        models[key].fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
        return time.perf_counter() - start  # fit returns host floats: the device work is done

    order = sorted(itertools.product(args.batch_sizes, args.policies, args.feeds),
                   key=lambda key: (args.batch_sizes.index(key[0]),
                                    args.policies.index(key[1]) >= 2,
                                    args.feeds.index(key[2]), args.policies.index(key[1])))
    models: dict[tuple[int, str, str], keras.Model] = {}
    warmup: dict[tuple[int, str, str], float] = {}
    skipped = []
    for key in order:
        batch_size, policy, feed = key
        longest = max(warmup.values(), default=0.0)  # the first model is always measured
        if warmup and time.perf_counter() - started + longest > args.budget * WARMUP_SHARE:
            skipped.append(key)
            continue
        keras.config.set_dtype_policy(policy)  # read by the layers when built
        keras.utils.set_random_seed(0)
        preprocessing = Preprocessing(args.image_size) if feed == "new" else None
        shape = STORED_SHAPE if feed == "new" else (args.image_size, args.image_size, 3)
        models[key] = build_mobilenet_v2(shape, NUM_CLASSES, alpha=args.alpha,
                                         bn_position=args.bn_position,
                                         preprocessing=preprocessing)
        models[key].compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
                            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                            metrics=["accuracy"])
        warmup[key] = fit_seconds(key)
        print(f"warm-up batch {batch_size} {policy} {feed}: {warmup[key]:.1f} s", flush=True)
    keras.config.set_dtype_policy("float32")

    seconds: dict[tuple[int, str, str], list[float]] = {key: [] for key in models}
    keys = list(models)
    for rep in range(args.reps):
        round_guess = sum(median(values) for values in seconds.values()) if rep else 0.0
        if rep and time.perf_counter() - started + round_guess > args.budget:
            print(f"budget of {args.budget:.0f} s reached after {rep} timed rounds")
            break
        for key in keys if rep % 2 == 0 else keys[::-1]:
            seconds[key].append(fit_seconds(key))

    speed = {key: args.steps * key[0] / median(values) for key, values in seconds.items()}
    rows = []
    for key in keys:
        batch_size, policy, feed = key
        base = speed.get((batch_size, args.policies[0], feed))
        old = speed.get((batch_size, policy, "old"))
        rows.append([batch_size, policy, feed, len(seconds[key]), round(warmup[key], 1),
                     speed[key], round(speed[key] / base, 3) if base else "-",
                     round(speed[key] / old, 3) if old else "-"])
    print(f"\nMobileNetV2 alpha {args.alpha}, BN {args.bn_position}, {STORED_SHAPE} uint8 "
          f"stored -> {args.image_size}x{args.image_size}x3, {args.steps} steps per timed "
          f"fit, median of the timed fits:\n")
    print_table(["batch", "policy", "feed", "timed fits", "warm-up fit s", "img/s",
                 f"vs {args.policies[0]}", "new / old"], rows)
    if skipped:
        print("\nnot measured (budget): " + ", ".join(f"batch {b} {p} {f}"
                                                      for b, p, f in skipped))
    for batch_size in args.batch_sizes:
        bf16, fp32 = speed.get((batch_size, "mixed_bfloat16", "new")), speed.get(
            (batch_size, "float32", "new"))
        if bf16 and fp32:
            print(f"batch {batch_size}, new feed: mixed_bfloat16 / float32 = {bf16 / fp32:.2f} "
                  f"(target >= {BF16_TARGET_RATIO}): {verdict(bf16 / fp32, BF16_TARGET_RATIO)}; "
                  f"mixed_bfloat16 {bf16:,.0f} img/s (target >= "
                  f"{BF16_TARGET_IMAGES_PER_SECOND:,} on an H100/H200): "
                  f"{verdict(bf16, BF16_TARGET_IMAGES_PER_SECOND)}")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


def _devices(backend: str) -> str:
    if backend == "jax":
        import jax

        return ", ".join(str(device) for device in jax.devices())
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    import tensorflow as tf

    return ", ".join(device.name for device in tf.config.list_physical_devices())


if __name__ == "__main__":
    raise SystemExit(main())
