"""Several worker processes on one study: SQLite on one machine, PostgreSQL across machines."""

from __future__ import annotations

import collections
import itertools
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from study.storage.opener import open_storage

WORKER = Path(__file__).with_name("worker.py")
ROOT = Path(__file__).parents[2]
N_TRIALS = 15
N_WORKERS = 3


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_url(request, tmp_path):
    """The embedded default storage, or a PostgreSQL server as used across machines."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/bnstudy.db"
    return request.getfixturevalue("postgres_url")


@pytest.mark.slow  # each worker imports TensorFlow: seconds of CPU before its first trial
def test_workers_on_one_storage_finish_exactly_n_trials_between_them(storage_url, tmp_path):
    study_name = tmp_path.name  # unique, as the PostgreSQL database lasts the whole session
    # Created here, not by the workers, so that they do not race to create it.
    optuna.create_study(study_name=study_name, storage=open_storage(storage_url),
                        direction="maximize")
    names = [f"w{i}" for i in range(N_WORKERS)]

    errors = _run_workers(storage_url, study_name, names, tmp_path)

    for name, error in errors.items():
        assert "locked" not in error and "Traceback" not in error, f"{name}: {error}"
    trials = optuna.load_study(study_name=study_name, storage=open_storage(storage_url)).trials
    summary = [(t.number, t.state.name, t.params.get("bn_position"), t.user_attrs)
               for t in trials]
    assert sorted(t.number for t in trials) == list(range(len(trials))), summary
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == N_TRIALS, summary
    others = [t for t in trials if t.state != TrialState.COMPLETE]
    assert all(t.state == TrialState.FAIL and t.user_attrs["failure_reason"].startswith(
        "surplus") for t in others), summary
    assert {t.user_attrs["worker"] for t in complete} == set(names), summary
    assert any(a.datetime_start < b.datetime_complete and b.datetime_start < a.datetime_complete
               for a, b in itertools.combinations(complete, 2)
               if a.user_attrs["worker"] != b.user_attrs["worker"]), "no trials overlapped"
    placements = collections.Counter(t.params["bn_position"] for t in complete)
    imbalance = abs(placements["before"] - placements["after"])
    # Each trial's placement follows from the trials numbered before it, which every worker
    # sees in the same order, so workers asking at the same moment still take turns.
    assert imbalance <= 1, summary


def _run_workers(url: str, study_name: str, names: list[str], folder: Path) -> dict[str, str]:
    """Starts one worker per name at the same moment, waits for all, returns their stderr.

    Every worker must exit with 0; their Keras Tuner folders and stderr go into `folder`.
    """
    workers = {}
    try:
        for name in names:
            with open(folder / f"{name}.stderr", "w") as stderr:
                workers[name] = subprocess.Popen(
                    [sys.executable, str(WORKER), url, str(folder / name), str(N_TRIALS),
                     "--study-name", study_name, "--name", name, "--seconds", "0.05", "--wait"],
                    cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                    text=True)
        for name, worker in workers.items():
            assert worker.stdout.readline() == "ready\n", (folder / f"{name}.stderr").read_text()
        for worker in workers.values():
            worker.stdin.close()  # the common start
        codes = {name: worker.wait(timeout=120) for name, worker in workers.items()}
    finally:
        for worker in workers.values():
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    errors = {name: (folder / f"{name}.stderr").read_text() for name in names}
    assert codes == dict.fromkeys(names, 0), errors
    return errors
