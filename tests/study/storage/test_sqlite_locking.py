"""A queued trial on SQLite is popped by exactly one process, as a row lock would on
PostgreSQL (study/storage/sqlite_locking.py)."""

from __future__ import annotations

import multiprocessing

import optuna
import pytest
import sqlalchemy
from optuna.trial import TrialState

from study.storage.opener import open_storage

N_PROCESSES = 4
N_QUEUED = 12


def _pop_all(url: str, name: str, start: multiprocessing.synchronize.Barrier,
             won: multiprocessing.Queue) -> None:
    """Tries to pop every queued trial, all processes at once: which ones this one won."""
    storage = open_storage(url)
    study_id = storage.get_study_id_from_name(name)
    trial_ids = [storage.get_trial_id_from_study_id_trial_number(study_id, number)
                 for number in range(N_QUEUED)]
    start.wait()
    won.put([trial_id for trial_id in trial_ids
             if storage.set_trial_state_values(trial_id, state=TrialState.RUNNING)])


def test_processes_popping_one_queue_at_once_each_pop_a_different_trial(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    study = optuna.create_study(study_name="s", storage=open_storage(url))
    for x in range(N_QUEUED):
        study.enqueue_trial({"x": x})
    context = multiprocessing.get_context("spawn")
    start, won = context.Barrier(N_PROCESSES), context.Queue()
    workers = [context.Process(target=_pop_all, args=(url, "s", start, won))
               for _ in range(N_PROCESSES)]
    for worker in workers:
        worker.start()
    popped = [won.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0

    every = [trial_id for one in popped for trial_id in one]
    assert sorted(every) == sorted(set(every)), popped  # no trial popped twice
    assert len(every) == N_QUEUED
    assert all(trial.state == TrialState.RUNNING for trial in study.get_trials())


def test_a_transaction_holds_the_write_lock_from_its_first_read(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    holder = open_storage(url)
    other = sqlalchemy.create_engine(url, connect_args={"timeout": 0.1})
    with holder.engine.connect() as connection:
        connection.execute(sqlalchemy.text("SELECT count(*) FROM trials"))  # a read only
        with pytest.raises(sqlalchemy.exc.OperationalError, match="database is locked"):
            with other.begin() as writing:
                writing.execute(sqlalchemy.text("DELETE FROM trials"))
    with other.begin() as writing:  # the read's transaction ended: the lock is free
        writing.execute(sqlalchemy.text("DELETE FROM trials"))


def test_a_storage_opened_to_read_takes_no_write_lock(tmp_path):
    """`BEGIN IMMEDIATE` would fail on a read-only file, and an analysis must not hold up the
    workers writing the study it reads."""
    url = f"sqlite:///{tmp_path}/s.db"
    optuna.create_study(study_name="s", storage=open_storage(url))
    reading = open_storage(url, read_only=True)
    other = sqlalchemy.create_engine(url, connect_args={"timeout": 0.1})
    with reading.engine.connect() as connection:
        connection.execute(sqlalchemy.text("SELECT count(*) FROM trials"))
        with other.begin() as writing:
            writing.execute(sqlalchemy.text("DELETE FROM trials"))
