"""Time per trial spent outside `model.fit`, and the graph tracing inside it.

Part 1 runs the real `OptunaTuner` (SQLite storage in a temporary folder, the bn_placement
space, the smoke preset's data and epochs, progress lines to a discarded stream) and splits
each trial's wall time, from before `oracle.create_trial` to the end of `on_trial_end`:
- create_trial (Optuna ask, sampling, storage), on_trial_begin (seed, storage reads);
- build and compile (the space's `build`), and Keras Tuner's clear_session + gc before it;
- fit: first epoch, later epochs (train + validation each), fit set-up and wind-down;
  Keras Tuner's best-epoch checkpoint (weights written to disk whenever val_accuracy improves;
  only with --keep-best-weights, as `study.search` skips it) and the per-epoch `oracle.report`
  happen inside fit and are shown separately; "fit edges" is fit minus its epochs: fit set-up,
  wind-down and the checkpoints (they run after the epoch's timer stops);
- after fit: user attributes, `update_trial`, `end_trial` (Optuna tell), Keras Tuner's save.
overhead = total - fit. Tracing = first epoch - median later epoch (the train and test steps are
traced in the first epoch; nothing else differs).

Part 2 trains a fresh alpha-0.35 model per compile option on the same data for two epochs and
reports the first epoch, the second, and the difference (tracing), to see which option makes a
short trial cheaper: default, `steps_per_execution`, `run_eagerly`, grappler off, and
`jit_compile=True` (XLA; with --jit, slow on CPU).

    .venv/bin/python benchmarks/trial_overhead.py [--trials 3] [--option-reps 1] [--jit]
        [--keep-best-weights] [--no-freeze]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import _common  # noqa: F401  (environment before TensorFlow)
from _common import interleave, machine_line, median, print_table, verdict

TARGET_SECONDS = 1.0
TARGET_SHARE = 0.05


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--option-reps", type=int, default=1,
                        help="fresh models per compile option in part 2 (0 skips part 2)")
    parser.add_argument("--steps-per-execution", type=int, default=32)
    parser.add_argument("--jit", action="store_true", help="also time jit_compile=True")
    parser.add_argument("--keep-best-weights", action="store_true",
                        help="save Keras Tuner's best-epoch checkpoints (study.search does not)")
    parser.add_argument("--no-freeze", action="store_true",
                        help="skip the gc.freeze() that run_search does before the trials")
    args = parser.parse_args(argv)

    from study.config import preset
    from study.engine.setup import prepare_run

    with tempfile.TemporaryDirectory(prefix="bnstudy-bench-") as folder:
        config = preset("smoke", storage=f"sqlite:///{Path(folder) / 'overhead.db'}",
                        study_name="overhead", n_trials=args.trials)
        setup = prepare_run(config)
        splits = setup.splits
        trials = _run_timed_search(setup, keep_best_weights=args.keep_best_weights,
                                   freeze=not args.no_freeze)
    rows, overheads, shares, tracings = [], [], [], []
    for number, parts in enumerate(trials):
        epochs = parts["epochs"]
        steady = statistics.median(epochs[1:]) if len(epochs) > 1 else float("nan")
        fit = parts["fit"]
        overhead = parts["total"] - fit
        overheads.append(overhead)
        shares.append(overhead / parts["total"])
        tracings.append(epochs[0] - steady)
        rows.append([number, parts["params"], len(epochs), parts["total"], parts["create_trial"],
                     parts["on_trial_begin"], parts["space_build"],
                     parts["build"] - parts["space_build"], fit, epochs[0], steady,
                     epochs[0] - steady, parts["fit_edges"], parts["report"],
                     parts["checkpoint"], parts["after_fit"], overhead,
                     f"{100 * overhead / parts['total']:.1f}%"])
    print(machine_line())
    print(f"part 1: OptunaTuner, SQLite, bn_placement space, smoke preset "
          f"({config.train_size} train / {config.val_size} val images, {config.epochs} epochs, "
          f"batch {config.batch_size}); seconds per trial\n")
    print_table(["trial", "hp", "epochs", "total", "create", "begin", "build+compile",
                 "clear_session+gc", "fit",
                 "epoch 1", "later epoch", "tracing", "fit edges", "report (in fit)",
                 "checkpoint (in fit)", "after fit", "overhead", "overhead %"], rows)
    overhead, share = median(overheads), median(shares)
    print(f"\nmedian overhead outside fit: {overhead:.2f} s = {100 * share:.1f}% of a smoke "
          f"trial (median trial {median([t['total'] for t in trials]):.1f} s); median tracing "
          f"{median(tracings):.1f} s")
    print(f"targets: overhead < {TARGET_SECONDS} s: "
          f"{verdict(overhead, TARGET_SECONDS, at_least=False)}; "
          f"< {100 * TARGET_SHARE:.0f}% of a smoke trial: "
          f"{verdict(share, TARGET_SHARE, at_least=False)}")

    if args.option_reps > 0:
        _compare_compile_options(config, splits, args)
    return 0


def _run_timed_search(setup, *, keep_best_weights: bool, freeze: bool) -> list[dict]:
    """Runs the study's real search path with timers around each step of every trial."""
    import keras
    from keras_tuner.src.engine import tuner_utils

    from study.engine.search_run import freeze_loaded_objects, open_study, study_record
    from study.storage.opener import open_storage
    from study.tuning.progress import Progress
    from study.tuning.tuner import OptunaTuner

    trials: list[dict] = []
    current: dict = defaultdict(float)

    def timed(function, key):
        """Adds each call's seconds to current[key]; current[key + "_ended"] is its last end."""
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                current[key + "_ended"] = time.perf_counter()
                current[key] += current[key + "_ended"] - start
        return wrapper

    save_model = tuner_utils.SaveBestEpoch._save_model
    tuner_utils.SaveBestEpoch._save_model = (
        lambda self: timed(save_model, "checkpoint")(self))

    class TimedTuner(OptunaTuner):
        """OptunaTuner with stopwatches; benchmark only."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.oracle.create_trial = timed(self.oracle.create_trial, "create_trial")
            self.oracle.report = timed(self.oracle.report, "report")
            self.hypermodel.fit = timed(self.hypermodel.fit, "fit")  # one fit per trial
            self.hypermodel.build = timed(self.hypermodel.build, "space_build")

        def pre_create_trial(self):
            current.clear()
            current["epochs"] = []
            current["checkpoint"] = 0.0  # stays 0 without --keep-best-weights
            current["started"] = time.perf_counter()

        def on_trial_begin(self, trial):
            timed(super().on_trial_begin, "on_trial_begin")(trial)

        def _try_build(self, hp):
            model = timed(super()._try_build, "build")(hp)
            current["params"] = f"{hp.values['bn_position']}/{hp.values['alpha']}"
            return model

        def on_epoch_begin(self, trial, model, epoch, logs=None):
            current["epoch_started"] = time.perf_counter()
            super().on_epoch_begin(trial, model, epoch, logs)

        def on_epoch_end(self, trial, model, epoch, logs=None):
            current["epochs"].append(time.perf_counter() - current["epoch_started"])
            super().on_epoch_end(trial, model, epoch, logs)

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            ended = time.perf_counter()
            current["total"] = ended - current["started"]
            current["after_fit"] = ended - current["fit_ended"]
            current["fit_edges"] = current["fit"] - sum(current["epochs"])
            trials.append(dict(current))

    config = setup.config
    study = open_study(config, open_storage(config.storage), study_record(setup),
                       scientific_param=setup.scientific_param)
    # The product's own tuner (compiled models reused per architecture), with stopwatches.
    tuner = setup.tuner(study, tuner_class=TimedTuner,
                        progress=Progress(config.n_trials, config.epochs, stream=io.StringIO()),
                        keep_best_weights=keep_best_weights)
    if freeze:
        freeze_loaded_objects()  # as run_search does
    tuner.search(*setup.inputs.train, epochs=config.epochs, **setup.inputs.fit_kwargs)
    keras.backend.clear_session()
    return trials


def _compare_compile_options(config, splits, args) -> None:
    """First and second epoch of a fresh model per compile option, interleaved over reps."""
    import keras
    import tensorflow as tf
    from host_feed import host_dataset

    from study.model.mobilenet_v2 import build_mobilenet_v2

    train = host_dataset(splits.train_images, splits.train_labels, image_size=config.image_size,
                         batch_size=config.batch_size, training=True, seed=config.seed)
    validation = host_dataset(splits.val_images, splits.val_labels, image_size=config.image_size,
                              batch_size=config.batch_size, training=False)
    options = {"default": {}, f"steps_per_execution={args.steps_per_execution}":
               {"steps_per_execution": args.steps_per_execution},
               "run_eagerly=True": {"run_eagerly": True}, "grappler off": {}}
    if args.jit:
        options["jit_compile=True"] = {"jit_compile": True}
    results: dict[str, list[list[float]]] = defaultdict(list)

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.started)

    def two_epochs(name: str, compile_kwargs: dict) -> float:
        keras.backend.clear_session()
        if name == "grappler off":
            tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
        try:
            keras.utils.set_random_seed(0)
            model = build_mobilenet_v2((config.image_size,) * 2 + (3,), splits.num_classes,
                                       alpha=0.35)
            model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True),
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          metrics=["accuracy"], **compile_kwargs)
            timer = EpochTimer()
            timer.seconds = []
            model.fit(train, validation_data=validation, epochs=2, shuffle=False, verbose=0,
                      callbacks=[timer])
            results[name].append(timer.seconds)
        finally:
            if name == "grappler off":
                tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": False})
        return sum(timer.seconds)

    interleave({name: (lambda n=name, k=kwargs: two_epochs(n, k))
                for name, kwargs in options.items()}, args.option_reps)
    rows = []
    for name in options:
        first = median([seconds[0] for seconds in results[name]])
        later = median([seconds[1] for seconds in results[name]])
        smoke_trial = first + (config.epochs - 1) * later
        rows.append([name, first, later, first - later, smoke_trial,
                     len(splits.train_images) / later])
    print(f"\npart 2: fresh MobileNetV2 0.35 per option, 2 epochs of {len(splits.train_images)} "
          f"train + {len(splits.val_images)} val images, median of {args.option_reps} "
          f"interleaved rep(s); seconds\n")
    print_table(["compile option", "epoch 1", "epoch 2", "tracing (1 - 2)",
                 f"{config.epochs}-epoch fit", "epoch 2 img/s (train imgs / train+val s)"], rows)


if __name__ == "__main__":
    raise SystemExit(main())
