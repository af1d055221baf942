"""A `study.select` or `study.confirm` worker that fakes training, for tests of many processes
sharing one step's reruns.

It runs the real command (`main`) with three things replaced: the run's set-up (no data, no
Keras: `study.engine.setup` is a stub, so a worker starts in a fraction of a second instead of
importing TensorFlow), training (a short sleep, then an accuracy that depends on the rerun's
configuration and seed alone, so every worker would measure the same), and the storage's
heartbeat settings (short, so that a killed worker's rerun is taken over within seconds).
`--minimum` lowers the pairs `--stop decided` needs before it may decide (30), so that a test
of the stop rule needs a third of the reruns.

    python tests/study/rerun_worker.py select|confirm [--seconds S] [--kill-at N]
        [--heartbeat S] [--grace S] [--minimum N] [--wait] -- COMMAND ARGUMENTS
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import signal
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2]))  # run as a script from the repository

import study.reruns.training as training  # noqa: E402
import study.storage.opener as opener  # noqa: E402
from study.reruns.training import RerunResult  # noqa: E402

# "after" is 2 pp ahead on every seed, with a seed effect both share (as in test_run): paired,
# the anytime-valid verdict decides "matters" at the 30 pairs it needs first.
BASE = {"before": 0.80, "after": 0.82}


def accuracy(params: dict[str, object], seed: int) -> float:
    """A rerun's accuracy: its configuration and its seed decide it, nothing else."""
    placement = str(params["bn_position"])
    return (BASE[placement] + 0.01 * math.sin(seed) + 0.001 * math.cos(3 * seed + len(placement))
            - float(params["learning_rate"]) / 10)


def _fake_setup() -> types.ModuleType:
    """A stand-in for `study.engine.setup`: what `RerunTrainer` and the records read of it."""
    splits = types.SimpleNamespace(train_images=range(256), val_images=range(128),
                                   test_images=range(512))
    models = types.SimpleNamespace(last_build="reused", dtype_policy="float32")
    setup = types.SimpleNamespace(splits=splits, inputs=None, code_version="fake-worker",
                                  models=lambda reuse=None: models)
    module = types.ModuleType("study.engine.setup")
    module.prepare_run = lambda config, held_out="val": setup
    module.library_versions = lambda: {"bnstudy": "fake-worker"}
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("select", "confirm"))
    parser.add_argument("--seconds", type=float, default=0.3, help="each rerun's 'training'")
    parser.add_argument("--kill-at", type=int, default=None,
                        help="SIGKILL this worker halfway through its N-th rerun")
    parser.add_argument("--heartbeat", type=int, default=1, help="seconds between heartbeats")
    parser.add_argument("--grace", type=int, default=3,
                        help="seconds without a heartbeat after which a rerun is taken for dead")
    parser.add_argument("--minimum", type=int, default=None,
                        help="reruns per value before --stop decided may decide")
    parser.add_argument("--wait", action="store_true",
                        help="print 'ready' once set up, then start when stdin closes")
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    args, command = parser.parse_args(argv[:split]), argv[split + 1:]

    sys.modules["study.engine.setup"] = _fake_setup()
    opener.open_storage = functools.partial(opener.open_storage,
                                            heartbeat_interval=args.heartbeat,
                                            grace_period=args.grace)
    trained = []

    def train_and_score(models, params, inputs, config, seeds):
        trained.append(seeds.seed)
        if len(trained) == args.kill_at:
            time.sleep(args.seconds / 2)
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(args.seconds)
        return RerunResult(accuracy(params, seeds.seed), 0.5, args.seconds,
                           [{"loss": 0.5, "accuracy": 0.8}], f"w{seeds.weights}")

    training.train_and_score = train_and_score
    if args.step == "select":
        from study.select import main as command_main
    else:
        import study.confirm
        from study.confirm import main as command_main

        if args.minimum is not None:
            study.confirm.StopRule = functools.partial(study.confirm.StopRule,
                                                       minimum=args.minimum)
    if args.wait:
        # Without a common start the first worker up would take every rerun.
        print("ready", flush=True)
        sys.stdin.read()
    return command_main(command)


if __name__ == "__main__":
    raise SystemExit(main())
