"""A search worker that fakes training, for tests of many processes sharing one study.

It runs the same oracle loop as `OptunaTuner.search` (create, update and end each trial), with a
short sleep in place of training, so a test can start several of them on one storage.

    python tests/study/worker.py STORAGE_URL FOLDER N_TRIALS [--study-name S] [--name N]
        [--seconds S] [--heartbeat S] [--wait]
"""

from __future__ import annotations

import argparse
import sys
import time

import keras_tuner
import optuna
from keras_tuner.engine.trial import TrialStatus

from study.storage.opener import open_storage
from study.tuning.oracle import OptunaOracle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("storage")
    parser.add_argument("folder", help="this worker's Keras Tuner project folder")
    parser.add_argument("n_trials", type=int)
    parser.add_argument("--study-name", default="shared", help="an existing study")
    parser.add_argument("--name", default="worker", help="stored as the user attribute `worker`")
    parser.add_argument("--seconds", type=float, default=0.05, help="each trial's 'training'")
    # Short, so that a worker waiting for others' running trials (IDLE) polls every second.
    parser.add_argument("--heartbeat", type=int, default=1, help="seconds between heartbeats")
    parser.add_argument("--wait", action="store_true",
                        help="print 'ready' once set up, then start when stdin closes")
    args = parser.parse_args(argv)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(args.storage, heartbeat_interval=args.heartbeat)
    study = optuna.load_study(study_name=args.study_name, storage=storage)
    hp = keras_tuner.HyperParameters()
    hp.Choice("bn_position", ["before", "after"])
    hp.Float("learning_rate", 1e-3, 1.0, sampling="log")
    oracle = OptunaOracle(study, max_trials=args.n_trials, hyperparameters=hp,
                          balanced_param="bn_position")
    oracle._set_project_dir(args.folder, "p")
    if args.wait:
        # Importing TensorFlow takes seconds, longer than the whole search: without a common
        # start the first worker would run every trial before the others are up.
        print("ready", flush=True)
        sys.stdin.read()
    while True:
        trial = oracle.create_trial(args.name)
        if trial.status == TrialStatus.STOPPED:
            return 0
        if trial.status == TrialStatus.IDLE:  # others' trials hold the budget: ask again
            continue
        oracle.set_user_attrs(trial.trial_id, {"worker": args.name})
        time.sleep(args.seconds)  # "training"
        oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5})
        trial.status = TrialStatus.COMPLETED
        oracle.end_trial(trial)


if __name__ == "__main__":
    raise SystemExit(main())
