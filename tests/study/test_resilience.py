"""A killed worker, Ctrl-C and reproducibility, each with a real search in a subprocess."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

SCRIPT = Path(__file__).with_name("tiny_search.py")
ROOT = Path(__file__).parents[2]


def _start(url: str, study: str, *flags: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SCRIPT), url, study, *flags], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _run(url: str, study: str, *flags: str) -> str:
    process = _start(url, study, *flags)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output
    return output


def _wait_for_a_running_trial(url: str, study: str, after_complete: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            trials = optuna.load_study(study_name=study, storage=url).trials
        except KeyError:
            trials = []
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        running = [t for t in trials if t.state == TrialState.RUNNING]
        if len(complete) >= after_complete and running and running[-1].intermediate_values:
            return  # the running trial is in the middle of its training
        time.sleep(0.2)
    raise AssertionError("no trial started training in time")


@pytest.mark.slow
def test_a_killed_worker_is_restarted_and_the_study_ends_with_exactly_n_trials(tmp_path):
    url = f"sqlite:///{tmp_path}/study.db"
    flags = ("--n-trials", "4", "--batch-sleep", "0.1", "--heartbeat", "1", "--grace", "2")
    worker = _start(url, "s", *flags)
    _wait_for_a_running_trial(url, "s", after_complete=1)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    killed = [t for t in optuna.load_study(study_name="s", storage=url).trials
              if t.state == TrialState.RUNNING]
    assert len(killed) == 1

    _run(url, "s", *flags)  # the same command again

    trials = optuna.load_study(study_name="s", storage=url).trials
    summary = [(t.number, t.state.name, t.system_attrs) for t in trials]
    assert len([t for t in trials if t.state == TrialState.COMPLETE]) == 4, summary
    dead = trials[killed[0].number]
    assert dead.state == TrialState.FAIL  # found stale by its missing heartbeat
    (retry,) = [t for t in trials if t.system_attrs.get("failed_trial") == dead.number]
    assert retry.state == TrialState.COMPLETE and retry.params == dead.params
    with sqlite3.connect(tmp_path / "study.db") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.slow
@pytest.mark.usefixtures("ctrl_c_raises")
def test_ctrl_c_marks_the_running_trial_and_the_same_command_resumes_with_it(tmp_path):
    url = f"sqlite:///{tmp_path}/study.db"
    flags = ("--n-trials", "3", "--batch-sleep", "0.1")
    worker = _start(url, "s", *flags)
    _wait_for_a_running_trial(url, "s", after_complete=0)
    worker.send_signal(signal.SIGINT)
    output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 130 and "interrupted" in output, output

    trials = optuna.load_study(study_name="s", storage=url).trials
    (stopped,) = [t for t in trials if t.state == TrialState.FAIL]
    assert stopped.user_attrs["failure_reason"] == "interrupted by the user"
    (queued,) = [t for t in trials if t.state == TrialState.WAITING]
    assert queued.params == stopped.params
    assert not [t for t in trials if t.state == TrialState.RUNNING]

    _run(url, "s", *flags)

    trials = optuna.load_study(study_name="s", storage=url).trials
    assert len([t for t in trials if t.state == TrialState.COMPLETE]) == 3
    assert trials[queued.number].state == TrialState.COMPLETE


@pytest.mark.slow
def test_sigterm_fails_the_running_trial_queues_it_again_and_exits_143(tmp_path):
    url = f"sqlite:///{tmp_path}/study.db"
    # Batches slow enough that the trial seen training is still training when the signal
    # lands on a loaded machine (at 0.1 s its last epoch could end first: seen once in CI).
    worker = _start(url, "s", "--n-trials", "3", "--batch-sleep", "0.4")
    _wait_for_a_running_trial(url, "s", after_complete=0)
    worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 143, output
    assert output.strip().splitlines()[-1] == "tiny_search: terminated; run the same command " \
                                              "again to resume."

    trials = optuna.load_study(study_name="s", storage=url).trials
    (stopped,) = [t for t in trials if t.state == TrialState.FAIL]
    (queued,) = [t for t in trials if t.state == TrialState.WAITING]
    assert queued.params == stopped.params
    assert not [t for t in trials if t.state == TrialState.RUNNING]


@pytest.mark.slow
def test_the_same_command_and_seed_reproduce_the_same_trials(tmp_path):
    flags = ("--n-trials", "3", "--seed", "5", "--deterministic")
    runs = [_start(f"sqlite:///{tmp_path}/{name}", "s", *flags) for name in ("a.db", "b.db")]
    for run in runs:  # side by side: the same command twice, in separate processes
        output, _ = run.communicate(timeout=300)
        assert run.returncode == 0, output

    first, second = (optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path}/{name}")
                     for name in ("a.db", "b.db"))
    assert [t.params for t in first.trials] == [t.params for t in second.trials]
    assert [t.intermediate_values for t in first.trials] == [
        t.intermediate_values for t in second.trials]
