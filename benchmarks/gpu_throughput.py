"""Training throughput at the blog's setting on a GPU: both placements, mixed precision off/on.

MobileNetV2 (`study.model.build_mobilenet_v2`, alpha 1.0), 224x224x3 random in-memory inputs,
10 classes, batch 128, Nesterov SGD as in the bn_placement space, compiled with the Keras
default (`jit_compile="auto"`: XLA where there is a GPU). One model per dtype policy x
placement; each is warmed up with one `fit` call (compilation excluded and reported), then
the models' timed `fit` calls of `--steps` steps are interleaved (A B C D, D C B A, ...) so that
drift cancels. Reports median images/s and, side by side, the ratios mixed/float32 (per
placement) and after/before (per policy). Backend-agnostic: on GPU hosts without TensorFlow run
it with `KERAS_BACKEND=jax` (what `benchmarks/gpu.sh` does). Stops timing when `--budget`
seconds have passed, so the whole script stays within its share of `gpu.sh`'s 8 minutes.

    KERAS_BACKEND=jax python3 benchmarks/gpu_throughput.py [--alpha 1.0] [--image-size 224]
        [--batch-size 128] [--steps 20] [--reps 3] [--policies float32 mixed_float16]
"""

from __future__ import annotations

import argparse
import time

import _common  # noqa: F401  (environment before Keras)
from _common import machine_line, median, print_table

NUM_CLASSES = 10
PLACEMENTS = ("before", "after")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20, help="train steps per timed fit call")
    parser.add_argument("--reps", type=int, default=3, help="timed fit calls per model")
    parser.add_argument("--policies", nargs="+", default=["float32", "mixed_float16"],
                        help="Keras dtype policies; mixed_bfloat16 also works")
    parser.add_argument("--budget", type=float, default=300.0,
                        help="seconds after which no further timed round starts")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    import keras
    import numpy as np

    from study.model import build_mobilenet_v2

    print(machine_line())
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, devices: "
          f"{_devices(keras.backend.backend())}")
    rng = np.random.default_rng(0)
    images = args.steps * args.batch_size
    shape = (args.image_size, args.image_size, 3)
    x = rng.random((images, *shape), dtype=np.float32) * 2 - 1
    y = rng.integers(0, NUM_CLASSES, images).astype(np.int32)

    def fit_seconds(model: keras.Model) -> float:
        start = time.perf_counter()
        model.fit(x, y, batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0)
        return time.perf_counter() - start  # fit returns host floats: the device work is done

    models, warmup = {}, {}
    for policy in args.policies:
        for placement in PLACEMENTS:
            keras.mixed_precision.set_global_policy(policy)  # read by the layers when built
            keras.utils.set_random_seed(0)
            model = build_mobilenet_v2(shape, NUM_CLASSES, alpha=args.alpha,
                                       bn_position=placement)
            model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          metrics=["accuracy"])
            warmup[policy, placement] = fit_seconds(model)
            models[policy, placement] = model
            print(f"warm-up {policy}/{placement}: {warmup[policy, placement]:.1f} s",
                  flush=True)
    keras.mixed_precision.set_global_policy("float32")

    seconds: dict[tuple[str, str], list[float]] = {key: [] for key in models}
    keys = list(models)
    for rep in range(args.reps):
        if rep > 0 and time.perf_counter() - started > args.budget:
            print(f"budget of {args.budget:.0f} s reached after {rep} timed rounds")
            break
        for key in keys if rep % 2 == 0 else keys[::-1]:
            seconds[key].append(fit_seconds(models[key]))

    speed = {key: images / median(values) for key, values in seconds.items()}
    rows = []
    for policy, placement in keys:
        rows.append([policy, placement, len(seconds[policy, placement]),
                     round(warmup[policy, placement], 1), speed[policy, placement],
                     round(speed[policy, placement] / speed[args.policies[0], placement], 3),
                     round(speed[policy, placement] / speed[policy, "before"], 3)])
    print(f"\nMobileNetV2 alpha {args.alpha}, {args.image_size}x{args.image_size}, batch "
          f"{args.batch_size}, {args.steps} steps per timed fit, median of the timed fits:\n")
    print_table(["policy", "bn_position", "timed fits", "warm-up fit s", "img/s",
                 f"vs {args.policies[0]}", "vs before"], rows)
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
