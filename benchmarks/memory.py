"""Resident memory over many trials of the real `OptunaTuner` in one process.

The bn_placement space with `alpha` fixed at 0.35 (an `hp.Fixed` declared before the space's
own `Choice`, so every trial builds the small model and the run stays quick; placement and
learning rate are still sampled), SQLite storage in a temporary folder, a tiny Fashion-MNIST
subset, one epoch per trial, graph mode (the real code path: no `run_eagerly`). VmRSS from
/proc/self/status is recorded after every trial; growth is RSS after the last trial minus RSS
after trial `--settle` (the first trials load libraries and fill caches).

    .venv/bin/python benchmarks/memory.py [--trials 30] [--train-size 256] [--settle 5]
        [--plain | --reuse]

`--reuse` gives the tuner the space's architecture parameters, so trials of an architecture already
trained reuse its compiled model (`study.tuning.compiled_models`), and samples `alpha` too, so that
all 8 architectures of the space fill the cache: RSS then shows what the cache holds and that it
stops growing once full. The default builds every trial's model afresh, as with `--reuse-compiled
off`.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (environment before TensorFlow)
from _common import machine_line, print_table, rss_mb, verdict

TARGET_GROWTH_MB = 150.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--train-size", type=int, default=256)
    parser.add_argument("--settle", type=int, default=5,
                        help="trial after which memory should stay flat")
    parser.add_argument("--plain", action="store_true",
                        help="no tuner and no Optuna: the same build and fit in a plain loop, "
                             "with Keras Tuner's clear_session + gc before each build, to see "
                             "whether growth comes from Keras/TensorFlow or from the study code")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse compiled models per architecture (bn_position, alpha)")
    args = parser.parse_args(argv)
    if args.plain and args.reuse:
        parser.error("`--plain` and `--reuse` exclude each other.")
    if not 1 <= args.settle < args.trials:
        parser.error(f"`--settle` must be in [1, --trials), but got {args.settle}.")


    import keras
    import keras_tuner

    from study.config import preset
    from study.engine.search_run import open_study, study_record
    from study.engine.setup import prepare_run
    from study.storage.opener import open_storage
    from study.tuning.tuner import OptunaTuner

    started = time.perf_counter()
    start_rss = rss_mb()
    # (trial, seconds since start, RSS MB, compiled models kept)
    samples: list[tuple[int, float, float, int]] = []

    def record(cached: int = 0) -> None:
        samples.append((len(samples) + 1, time.perf_counter() - started, rss_mb(), cached))
        print(f"trial {samples[-1][0]}: {samples[-1][2]:,.0f} MB, {cached} cached models",
              file=sys.stderr, flush=True)

    class RecordingTuner(OptunaTuner):
        def on_trial_end(self, trial: keras_tuner.engine.trial.Trial) -> None:
            super().on_trial_end(trial)
            record(self.hypermodel.cached_models())

    with tempfile.TemporaryDirectory(prefix="bnstudy-bench-") as folder:
        config = preset("smoke", storage=f"sqlite:///{Path(folder) / 'memory.db'}",
                        study_name="memory", n_trials=args.trials, epochs=1,
                        train_size=args.train_size, val_size=args.train_size, pruner="none")
        setup = prepare_run(config)  # the study's own data, feed and space, as run_search's
        study = open_study(config, open_storage(config.storage), study_record(setup),
                           scientific_param=setup.scientific_param)
        inputs, space = setup.inputs, setup.space

        def small_build(hp: keras_tuner.HyperParameters):
            hp.Fixed("alpha", 0.35)  # the space's Choice("alpha") then returns 0.35
            return space(hp)

        if args.plain:
            for number in range(args.trials):
                keras.backend.clear_session()  # as Keras Tuner's `_try_build` does
                gc.collect()
                keras.utils.set_random_seed(number)
                hp = keras_tuner.HyperParameters()
                hp.Fixed("bn_position", ("before", "after")[number % 2])
                model = small_build(hp)
                model.fit(*inputs.train, epochs=config.epochs, verbose=0, **inputs.fit_kwargs)
                del model
                record()
        else:
            tuner = setup.tuner(study, tuner_class=RecordingTuner,
                                hypermodel=space if args.reuse else small_build,
                                reuse_compiled=args.reuse)
            tuner.search(*inputs.train, epochs=config.epochs, **inputs.fit_kwargs)

    print(machine_line())
    loop = ("plain build + fit loop (no tuner)" if args.plain else
            f"OptunaTuner, compiled models {'reused' if args.reuse else 'built every trial'}")
    widths = "alpha sampled (8 architectures)" if args.reuse else "alpha fixed at 0.35"
    print(f"{loop}, bn_placement space with {widths}, {args.train_size} train / "
          f"{args.train_size} val images, 1 epoch per trial, {len(samples)} trials; "
          f"RSS before the first trial {start_rss:,.0f} MB\n")
    shown = sorted({1, 2, 3, args.settle, *range(10, len(samples) + 1, 5), len(samples)})
    rows = [[trial, round(seconds), rss, cached] for trial, seconds, rss, cached in samples
            if trial in shown or (args.reuse and trial > 1 and cached != samples[trial - 2][3])]
    print_table(["after trial", "elapsed s", "RSS MB", "compiled models kept"], rows)
    if args.reuse:  # growth is measured once the cache is as full as it gets
        full = next(trial for trial, *_, cached in samples if cached == samples[-1][3])
        args.settle = max(args.settle, full)
        print(f"\ncache full ({samples[-1][3]} models) after trial {full}; RSS then "
              f"{samples[full - 1][2] - start_rss:+,.0f} MB over the first trial's start "
              f"({(samples[full - 1][2] - start_rss) / samples[-1][3]:,.0f} MB per model, "
              "libraries and data warm-up included)")
    if args.settle >= len(samples):
        print("the cache filled at the last trial: run more trials to see growth after it")
        return 0
    settled, final = samples[args.settle - 1][2], samples[-1][2]
    growth = final - settled
    per_trial = growth / (len(samples) - args.settle)
    print(f"\nRSS after trial {args.settle}: {settled:,.0f} MB; after trial {len(samples)}: "
          f"{final:,.0f} MB; growth {growth:+,.0f} MB ({per_trial:+.1f} MB/trial); "
          f"target growth < {TARGET_GROWTH_MB:.0f} MB: "
          f"{verdict(growth, TARGET_GROWTH_MB, at_least=False)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
