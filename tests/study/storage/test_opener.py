from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import re
import sqlite3
import time
from pathlib import Path

import optuna
import pytest
import sqlalchemy

from study.config import ConfigError, preset
from study.engine.search_run import open_study
from study.errors import StorageError
from study.storage.contract import CONFIG_ATTR, SCIENTIFIC_PARAM
from study.storage.opener import (
    SHOWN_NAMES,
    check_storage,
    has_study,
    load_study,
    load_study_if_any,
    mask_password,
    open_storage,
)
from study.tuning.pruning import SameValuePruner
from study.tuning.samplers import TrialSeededSampler

PASSWORD = "s3cret-pw"  # in storage URLs, to check that no output shows it


def _config(tmp_path, **overrides):
    return preset("smoke", storage=f"sqlite:///{tmp_path}/s.db", study_name="s", **overrides)


def test_a_new_study_stores_its_configuration(tmp_path):
    config = _config(tmp_path)
    study = open_study(config, open_storage(config.storage), dataclasses.asdict(config),
                       scientific_param=SCIENTIFIC_PARAM)

    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert study.user_attrs[CONFIG_ATTR]["dataset"] == "fashion_mnist"
    assert isinstance(study.sampler, TrialSeededSampler)
    assert isinstance(study.pruner, SameValuePruner)
    assert isinstance(study.pruner.base, optuna.pruners.MedianPruner)


def test_the_same_settings_resume_the_same_study(tmp_path):
    config = _config(tmp_path)
    storage = open_storage(config.storage)
    first = open_study(config, storage, dataclasses.asdict(config),
                       scientific_param=SCIENTIFIC_PARAM)
    first.add_trial(optuna.trial.create_trial(value=0.5))

    again = open_study(dataclasses.replace(config, n_trials=20, sampler="random"), storage,
                       dataclasses.asdict(config), scientific_param=SCIENTIFIC_PARAM)

    assert again._study_id == first._study_id
    assert len(again.trials) == 1


@pytest.mark.parametrize(("key", "stored", "match"), [
    ("dataset", "tfds:cifar10", "`dataset` must match the study being resumed.*'tfds:cifar10'"),
    ("search_space", "other_space", "`search_space` must match.*'other_space'"),
    ("epochs", 9, "`epochs` must match.*epochs=9"),
])
def test_resuming_with_other_experiment_settings_is_refused(tmp_path, key, stored, match):
    config = _config(tmp_path)
    storage = open_storage(config.storage)
    earlier = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    earlier.set_user_attr(CONFIG_ATTR, dataclasses.asdict(config) | {key: stored})

    with pytest.raises(ConfigError, match=match):
        open_study(config, storage, dataclasses.asdict(config), scientific_param=SCIENTIFIC_PARAM)


def test_a_study_not_made_by_bnstudy_is_refused(tmp_path):
    config = _config(tmp_path)
    storage = open_storage(config.storage)
    optuna.create_study(study_name="s", storage=storage, direction="maximize")

    with pytest.raises(ConfigError, match="has no stored configuration"):
        open_study(config, storage, dataclasses.asdict(config), scientific_param=SCIENTIFIC_PARAM)


def test_a_sqlite_folder_is_created_for_a_new_study(tmp_path):
    open_storage(f"sqlite:///{tmp_path}/new/folder/s.db")
    assert (tmp_path / "new" / "folder" / "s.db").is_file()


@pytest.mark.parametrize("read_only", [False, True])
def test_a_missing_sqlite_file_is_refused_when_it_must_exist(tmp_path, read_only):
    url = f"sqlite:///{tmp_path}/absent/missing.db"
    with pytest.raises(StorageError, match="must name an existing SQLite file.*missing.db"):
        open_storage(url, read_only=read_only, create=False)
    assert not (tmp_path / "absent").exists()


@pytest.mark.parametrize(("url", "match"), [
    ("nonsense://x", "must be a database URL such as sqlite:///"),
    ("not a url", "must be a database URL such as sqlite:///"),
    ("sqlite:/relative.db", "must be a database URL"),
    ("postgresql+nodriver://u@h/db", "must be a database URL"),
    ("sqlite:///:memory:", "must name a SQLite file to read, but 'sqlite:///:memory:' is a "
                           "database in memory"),
])
def test_a_malformed_url_is_one_clear_error(url, match):
    with pytest.raises(StorageError, match=re.escape(match)):
        open_storage(url, read_only=True)


def test_a_file_that_is_not_sqlite_is_refused_unchanged(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("not a database, just some text that is long enough\n" * 10)

    with pytest.raises(StorageError, match="must be a SQLite database.*file is not a database"):
        open_storage(f"sqlite:///{path}")
    assert path.read_text() == "not a database, just some text that is long enough\n" * 10


# `studies` is one of Optuna's table names, with other columns here: Optuna's create_all would
# skip it and then fail half-way, after adding its other tables.
@pytest.mark.parametrize("table", ["things", "studies"])
@pytest.mark.parametrize("read_only", [False, True])
def test_a_database_of_another_program_is_refused_and_left_unchanged(tmp_path, foreign_sqlite,
                                                                     table, read_only):
    path = tmp_path / "foreign.db"
    before = foreign_sqlite(path, table)

    with pytest.raises(StorageError, match=rf"must be an Optuna storage or an empty database, "
                                           rf"but '.*foreign.db' holds tables of another "
                                           rf"program \({table}\)"):
        open_storage(f"sqlite:///{path}", read_only=read_only)
    assert path.read_bytes() == before


def test_check_storage_refuses_as_open_storage_does_but_creates_nothing(tmp_path,
                                                                       foreign_sqlite):
    check_storage(f"sqlite:///{tmp_path}/new/s.db")  # may be created later: passes
    assert not (tmp_path / "new").exists()
    before = foreign_sqlite(tmp_path / "foreign.db", "things")
    with pytest.raises(StorageError, match="holds tables of another program"):
        check_storage(f"sqlite:///{tmp_path}/foreign.db")
    assert (tmp_path / "foreign.db").read_bytes() == before
    with pytest.raises(StorageError, match="must name an existing SQLite file"):
        check_storage(f"sqlite:///{tmp_path}/new/s.db", create=False)


def test_a_storage_another_worker_is_creating_is_used(tmp_path):
    # Optuna creates `studies` first; a worker starting then sees that table alone.
    path = tmp_path / "s.db"
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE studies (study_id INTEGER NOT NULL PRIMARY KEY, "
                           "study_name VARCHAR(512) NOT NULL UNIQUE)")
        connection.commit()

    storage = open_storage(f"sqlite:///{path}")

    optuna.create_study(study_name="s", storage=storage).add_trial(
        optuna.trial.create_trial(value=0.5))
    assert len(optuna.load_study(study_name="s", storage=f"sqlite:///{path}").trials) == 1


def test_an_empty_database_is_not_read_as_studies(tmp_path):
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()

    with pytest.raises(StorageError, match="must hold Optuna studies, but .* has no tables"):
        open_storage(f"sqlite:///{path}", read_only=True)
    assert path.read_bytes() == b""


def _optuna_file(path: Path) -> str:
    url = f"sqlite:///{path}"
    optuna.create_study(study_name="s", storage=open_storage(url))
    return url


def test_a_read_only_database_is_refused_for_writing_and_read_for_analysis(tmp_path):
    _optuna_file(tmp_path / "s.db")
    before = (tmp_path / "s.db").read_bytes()
    # Read-only by the URL: we may run as root, whom chmod does not stop.
    url = f"sqlite:///file:{tmp_path / 's.db'}?mode=ro&uri=true"

    with pytest.raises(StorageError, match=r"must accept writes to search or confirm, but "
                                           r".* is read-only \(attempt to write a readonly"):
        open_storage(url)
    assert optuna.get_all_study_names(open_storage(url, read_only=True)) == ["s"]
    assert (tmp_path / "s.db").read_bytes() == before


def test_an_optuna_storage_of_another_schema_version_is_refused_unchanged(tmp_path):
    path = tmp_path / "old.db"
    url = _optuna_file(path)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'v3.0.0.d'")  # Optuna 3.0
        connection.commit()
    before = path.read_bytes()

    for read_only in (False, True):
        with pytest.raises(StorageError, match=r"must have the table schema of the installed "
                                               r"Optuna .*optuna storage upgrade --storage "
                                               r"sqlite:///"):
            open_storage(url, read_only=read_only)
    assert path.read_bytes() == before


def test_an_unreachable_server_is_reported_quickly_without_its_password():
    started = time.monotonic()
    with pytest.raises(StorageError) as raised:
        open_storage(f"postgresql://user:{PASSWORD}@127.0.0.1:1/db")

    message = str(raised.value)
    assert message.startswith("`storage` must be a reachable database server, but "
                              "'postgresql://user:***@127.0.0.1:1/db' is unreachable (")
    assert PASSWORD not in message and "\n" not in message
    assert time.monotonic() - started < 30


def test_a_missing_driver_is_named_without_the_password():
    if importlib.util.find_spec("pg8000") is not None:
        pytest.skip("pg8000 is installed here")
    with pytest.raises(StorageError, match=r"needs an installed database driver, but "
                                           r"'postgresql\+pg8000://u:\*\*\*@h/db' asks for "
                                           r"'postgresql\+pg8000'"):
        open_storage("postgresql+pg8000://u:s3cret@h/db")


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://user:s3cret@db.example:5432/bn", "postgresql://user:***@db.example:5432/bn"),
    ("postgresql://user:s3cr%40t@host/bn?sslmode=require",
     "postgresql://user:***@host/bn?sslmode=require"),
    ("postgresql://user:s3cret@host:port/bn", "postgresql://user:***@host:port/bn"),
    ("sqlite:///studies/bnstudy.db", "sqlite:///studies/bnstudy.db"),
    ("sqlite:///file:s.db?mode=ro&uri=true", "sqlite:///file:s.db?mode=ro&uri=true"),
])
def test_mask_password_hides_only_the_password(url, shown):
    assert mask_password(url) == shown


def test_load_study_names_the_studies_there_are_when_one_is_missing(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path}/s.db")
    for name in ("b", "a"):
        optuna.create_study(study_name=name, storage=storage)

    assert load_study(storage, "a").study_name == "a"
    assert has_study(storage, "b") and not has_study(storage, "c")
    with pytest.raises(StorageError, match=r"`study_name` must name a study in the storage, "
                                           r"but 'c' is not there \(studies: a, b\)\.$"):
        load_study(storage, "c")


def test_a_study_not_there_loads_as_none_for_a_step_not_run_yet():
    storage = optuna.storages.InMemoryStorage()
    optuna.create_study(study_name="s/confirm", storage=storage)

    assert load_study_if_any(storage, "s/confirm").study_name == "s/confirm"
    assert load_study_if_any(storage, "s/select") is None


def test_a_long_list_of_studies_is_cut_short():
    storage = optuna.storages.InMemoryStorage()
    for number in range(SHOWN_NAMES + 3):
        optuna.create_study(study_name=f"s{number:02d}", storage=storage)

    with pytest.raises(StorageError, match=rf"s09, \.\.\. \({SHOWN_NAMES + 3} in all\)\)"):
        load_study(storage, "absent")


def test_a_stored_url_with_a_masked_password_still_resumes(tmp_path):
    config = _config(tmp_path)
    record = dataclasses.asdict(config) | {"storage": "postgresql://u:***@h/db"}
    first = open_study(config, open_storage(config.storage), record,
                       scientific_param=SCIENTIFIC_PARAM)

    again = open_study(config, open_storage(config.storage), dataclasses.asdict(config),
                       scientific_param=SCIENTIFIC_PARAM)

    assert again._study_id == first._study_id
    assert again.user_attrs[CONFIG_ATTR]["storage"] == "postgresql://u:***@h/db"


def test_the_study_names_its_metric_for_the_dashboard(tmp_path):
    config = preset("smoke", storage=f"sqlite:///{tmp_path / 's.db'}", study_name="s")
    storage = open_storage(config.storage)
    unnamed = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    unnamed.set_user_attr(CONFIG_ATTR, dataclasses.asdict(config))  # made before names

    study = open_study(config, storage, dataclasses.asdict(config),
                       scientific_param=SCIENTIFIC_PARAM)

    assert study.metric_names == ["val_accuracy"]


def _password(url: str) -> str:
    return sqlalchemy.engine.make_url(url).password


def _tables(url: str) -> set[str]:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return set(sqlalchemy.inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_postgresql_of_another_program_is_refused_and_left_unchanged(postgres_database):
    engine = sqlalchemy.create_engine(postgres_database)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE TABLE studies (id INTEGER, title TEXT)"))
    engine.dispose()

    with pytest.raises(StorageError, match=r"of another program \(studies\)") as raised:
        open_storage(postgres_database)
    assert _password(postgres_database) not in str(raised.value)
    assert _tables(postgres_database) == {"studies"}


def test_read_only_postgresql_is_refused_for_writing_and_read_for_analysis(postgres_database):
    optuna.create_study(study_name="s", storage=open_storage(postgres_database))
    name = sqlalchemy.engine.make_url(postgres_database).database
    engine = sqlalchemy.create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(
            f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    engine.dispose()

    with pytest.raises(StorageError, match="must accept writes .* is read-only") as raised:
        open_storage(postgres_database)
    assert _password(postgres_database) not in str(raised.value)
    assert optuna.get_all_study_names(open_storage(postgres_database, read_only=True)) == ["s"]


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:",
                                 "sqlite:///file:x?mode=memory&uri=true"])
def test_a_database_in_memory_is_refused_for_writing_it_would_lose_the_study(url):
    with pytest.raises(StorageError, match=r"must name a SQLite file to keep the study in, but "
                                           r".* is a database in memory, which loses it"):
        open_storage(url)


def test_a_new_file_under_a_regular_file_is_refused_before_writing(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(StorageError, match=r"`storage` must lie in a folder, but "
                                           r".*notes.txt' above .* is a file\."):
        open_storage(f"sqlite:///{tmp_path}/notes.txt/study.db")
    assert (tmp_path / "notes.txt").read_text() == "x"


def test_a_look_alike_with_optunas_table_names_but_other_columns_is_refused(tmp_path):
    path = tmp_path / "look_alike.db"
    optuna.storages.RDBStorage(f"sqlite:///{path}").engine.dispose()  # Optuna's tables...
    with sqlite3.connect(path) as connection:  # ...but `trials` of another program
        connection.execute("DROP TABLE trials")
        connection.execute("CREATE TABLE trials (id INTEGER, title TEXT)")
    before = path.read_bytes()

    with pytest.raises(StorageError, match=r"holds tables of another program \(trials\)"):
        open_storage(f"sqlite:///{path}")
    assert path.read_bytes() == before


def test_a_storage_another_worker_is_creating_is_waited_for(tmp_path, monkeypatch):
    import threading

    from study.storage import database_check

    path = tmp_path / "new.db"
    with sqlite3.connect(path) as connection:  # the first of Optuna's tables, made already
        connection.execute("CREATE TABLE studies (study_id INTEGER PRIMARY KEY, "
                           "study_name VARCHAR(512))")
    monkeypatch.setattr(database_check, "CREATION_WAIT_S", 5.0)
    # The other worker makes the rest of the tables a second later.
    creator = threading.Timer(1.0, lambda: optuna.storages.RDBStorage(f"sqlite:///{path}"))
    creator.start()

    storage = open_storage(f"sqlite:///{path}")
    creator.join()

    assert storage.get_all_studies() == []  # opened what the other worker finished
