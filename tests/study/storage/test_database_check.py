"""study.storage.database_check: what makes a storage one a command may write to, or read.

Opened through `open_storage` and `check_storage` as the commands open them; the other checks
(another program's tables, look-alikes, schema versions, servers) are in test_opener.py.
"""

from __future__ import annotations

import re
import sqlite3

import optuna
import pytest

from study.errors import StorageError
from study.storage.opener import check_storage, open_storage


def _refused(url: str, message: str, **kwargs: bool) -> None:
    """Both ways a command opens a storage refuse it with `message`, from its start."""
    for check in (check_storage, open_storage):
        with pytest.raises(StorageError, match=f"^{re.escape(message)}"):
            check(url, **kwargs)


@pytest.mark.parametrize("name", ["s.db", "new/s.db"])
def test_a_new_file_in_a_read_only_folder_is_refused_before_writing(tmp_path, make_read_only,
                                                                    name):
    folder = tmp_path / "read-only"
    folder.mkdir()
    make_read_only(folder)
    url = f"sqlite:///{folder / name}"

    _refused(url, f"`storage` must lie in a folder that can be written to, to be created, "
                  f"but '{folder}', where '{url}' would be made, is read-only.")
    assert list(folder.iterdir()) == []


def test_a_storage_in_a_read_only_folder_is_refused_for_writing_and_read_for_analysis(
        tmp_path, make_read_only):
    folder = tmp_path / "read-only"
    folder.mkdir()
    url = f"sqlite:///{folder / 's.db'}"
    optuna.create_study(study_name="s", storage=open_storage(url))
    before = (folder / "s.db").read_bytes()
    make_read_only(folder)

    _refused(url, f"`storage` must lie in a folder that can be written to (SQLite writes a "
                  f"journal beside its file), but the folder '{folder}' of '{url}' is "
                  "read-only; `python -m analysis` can still read it.")
    assert optuna.get_all_study_names(open_storage(url, read_only=True)) == ["s"]
    assert (folder / "s.db").read_bytes() == before


@pytest.mark.parametrize("make", ["touch", "sqlite3"])
def test_a_database_without_tables_is_not_filled_where_studies_must_be_there(tmp_path, make):
    path = tmp_path / "empty.db"
    if make == "touch":
        path.touch()
    else:
        sqlite3.connect(path).close()
    url = f"sqlite:///{path}"

    _refused(url, f"`storage` must hold Optuna studies, but '{url}' has no tables.",
             create=False)
    assert path.read_bytes() == b""


def test_a_new_storage_may_still_start_in_a_database_without_tables(tmp_path):
    # A second search worker may find the file the first one has just created still empty.
    path = tmp_path / "empty.db"
    path.touch()

    optuna.create_study(study_name="s", storage=open_storage(f"sqlite:///{path}"))

    assert optuna.get_all_study_names(f"sqlite:///{path}") == ["s"]
