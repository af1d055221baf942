"""Consistent copies of a SQLite study storage, for committing a study that still runs."""

from __future__ import annotations

import sqlite3
import time

import optuna
import pytest

from study.errors import StorageError
from study.snapshot import main
from study.storage.snapshots import PeriodicSnapshots, snapshot_sqlite


def _study(url: str, n: int) -> optuna.Study:
    study = optuna.create_study(study_name="s", storage=url, direction="maximize",
                                load_if_exists=True)
    for value in range(n):
        study.add_trial(optuna.trial.create_trial(
            params={"x": float(value)},
            distributions={"x": optuna.distributions.FloatDistribution(0, 100)}, value=value))
    return study


def test_a_snapshot_holds_the_study_and_replaces_the_previous_one(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    _study(url, 3)
    destination = tmp_path / "results" / "study.db"

    assert snapshot_sqlite(url, str(destination)) == destination
    _study(url, 2)  # the study grows...
    snapshot_sqlite(url, f"sqlite:///{destination}")  # ...and is copied again

    copied = optuna.load_study(study_name="s", storage=f"sqlite:///{destination}")
    assert [t.value for t in copied.trials] == [0, 1, 2, 0, 1]
    assert not list(destination.parent.glob("*.partial"))


def test_a_snapshot_of_a_missing_file_creates_nothing(tmp_path):
    with pytest.raises(StorageError, match="`source` must be an existing SQLite file"):
        snapshot_sqlite(str(tmp_path / "missing.db"), str(tmp_path / "copy.db"))
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "copy.db").exists()


def test_the_command_line_refuses_copying_a_file_onto_itself(tmp_path, capsys):
    _study(f"sqlite:///{tmp_path / 'live.db'}", 1)
    assert main([str(tmp_path / "live.db"), str(tmp_path / "live.db")]) == 2
    assert "`destination` must differ from `source`" in capsys.readouterr().err


def _refused(capsys, argv: list[str], message: str) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("python -m study.snapshot: error: ") and message in captured.err


def test_another_programs_file_is_not_overwritten_without_being_asked(tmp_path, capsys):
    _study(f"sqlite:///{tmp_path / 'live.db'}", 2)
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE studies (id INTEGER, title TEXT)")  # a look-alike

    for target in (notes, foreign):
        before = target.read_bytes()
        _refused(capsys, [str(tmp_path / "live.db"), str(target)],
                 f"`destination` must be a new file or an Optuna storage, but '{target}' is "
                 "another file; pass --overwrite to replace it.")
        assert target.read_bytes() == before
    assert main([str(tmp_path / "live.db"), str(notes), "--overwrite"]) == 0
    assert len(optuna.load_study(study_name="s", storage=f"sqlite:///{notes}").trials) == 2


def test_a_folder_or_a_path_under_a_file_is_refused_and_nothing_is_left(tmp_path, capsys):
    _study(f"sqlite:///{tmp_path / 'live.db'}", 1)
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")

    _refused(capsys, [str(tmp_path / "live.db"), str(tmp_path / "folder")],
             "is a folder; name the file inside it")
    _refused(capsys, [str(tmp_path / "live.db"), str(tmp_path / "file" / "study.db")],
             f"`destination` must lie in a folder, but '{tmp_path / 'file'}' above")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file", "folder", "live.db"]
    assert list((tmp_path / "folder").iterdir()) == []


def test_a_source_url_with_a_password_is_masked(tmp_path, capsys):
    _refused(capsys, ["postgresql://user:s3cret@db.example/bn", str(tmp_path / "copy.db")],
             "`source` must be an existing SQLite file, but got "
             "'postgresql://user:***@db.example/bn'.")
    assert not (tmp_path / "copy.db").exists()


def test_a_source_that_is_not_an_optuna_storage_is_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not a database")
    _refused(capsys, [str(tmp_path / "notes.txt"), str(tmp_path / "copy.db")],
             "`source` must be an Optuna storage, but")


def _trials_in(path) -> int:
    """Trials in the copy so far; -1 before the copy holds the study."""
    if not path.is_file():
        return -1  # (loading it would create it)
    try:
        return len(optuna.load_study(study_name="s", storage=f"sqlite:///{path}").trials)
    except KeyError:
        return -1


def test_periodic_snapshots_follow_the_live_study_and_report_a_failed_copy(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    destination = tmp_path / "copy.db"
    reported: list[str] = []
    with PeriodicSnapshots(url, str(destination), 0.001, reported.append) as snapshots:
        time.sleep(0.3)
        assert not destination.exists() and reported == []  # no live file yet: nothing to copy
        # The live storage appears whole, as study.run's does after its first step (a file
        # caught while Optuna creates its tables is refused and reported, then copied later).
        _study(f"sqlite:///{tmp_path / 'making.db'}", 2)
        (tmp_path / "making.db").replace(tmp_path / "live.db")
        deadline = time.monotonic() + 30
        while _trials_in(destination) != 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _trials_in(destination) == 2
        _study(url, 1)
        assert snapshots.now() == destination  # on demand, e.g. after a step
        assert _trials_in(destination) == 3
        # The live file turns into another program's: the thread reports it and keeps going.
        (tmp_path / "other.db").write_text("not a database")
        (tmp_path / "other.db").replace(tmp_path / "live.db")
        while not reported and time.monotonic() < deadline:
            time.sleep(0.05)
    # Refused before the copy, or found out during it when the file changed under it.
    assert reported and reported[0].startswith(("Snapshot skipped: `source` must be an Optuna "
                                                "storage", "Snapshot skipped: `source` must "
                                                "stay readable"))
    assert _trials_in(destination) == 3  # the last good copy is kept
    with pytest.raises(StorageError, match="`snapshot_minutes` must be positive, but got 0"):
        PeriodicSnapshots(url, str(destination), 0, reported.append)
