"""Opening Optuna storage, and finding, creating or resuming the studies in it.

`open_storage` is how every command opens a storage URL: `study.search` and `study.confirm` to
write, `analysis` read-only. Before Optuna touches a database it is checked
(`study.storage.database_check`), so that a database of another program, a read-only one, an
unreachable server or another Optuna table schema is refused with one line and nothing written.
Messages, records and summaries quote a URL only through `mask_password`. Light on purpose: no
Keras, no pandas.
"""

from __future__ import annotations

import re
import shlex
import warnings
from collections.abc import Callable
from pathlib import Path

import optuna
import sqlalchemy
from sqlalchemy.engine import URL, make_url

from study.errors import StorageError
from study.storage.contract import CONFIG_ATTR
from study.storage.database_check import (
    EXAMPLE_URL,
    SHOWN_NAMES,
    check_database,
    check_sqlite_folder,
    reason,
)
from study.storage.heartbeat import stale_callback
from study.storage.sqlite_locking import lock_when_transactions_begin

__all__ = ["check_not_under_a_file", "check_storage", "create_or_load_study", "has_study",
           "load_study", "load_study_if_any", "mask_password", "name_metric", "open_storage",
           "sqlite_file"]

# An unreachable server is reported after this many seconds instead of the system's TCP
# timeout (minutes); a reachable one answers in milliseconds.
CONNECT_TIMEOUT_S = 10
# SQLite: wait this long for a lock instead of failing at once when several workers write.
SQLITE_LOCK_TIMEOUT_S = 60



def mask_password(url: str) -> str:
    """The URL with its password, if it has one, shown as `***`: what any output may quote."""
    try:
        parsed = make_url(url)
    except (sqlalchemy.exc.ArgumentError, ValueError):
        # Not a URL SQLAlchemy reads (e.g. a port that is no number): mask user:password@.
        return re.sub(r"(://[^:/@]*:).*@", r"\1***@", url)
    if parsed.password is None:
        return url  # unchanged, as the user wrote it
    return parsed.render_as_string(hide_password=True)


def open_storage(url: str, *, read_only: bool = False, create: bool = True,
                 heartbeat_interval: int = 30, grace_period: int = 120
                 ) -> optuna.storages.RDBStorage:
    """Connects to an Optuna RDB storage after checking that it is one and can be used as asked.

    Args:
        url: A SQLAlchemy URL: `sqlite:///path.db` (embedded, the default) or
            `postgresql://user:password@host/db` for many machines.
        read_only: For reading studies (`analysis`): never creates a file or tables, and the
            storage must already hold Optuna's tables. Otherwise (search, confirm) the storage
            must accept writes, and trials keep heartbeats.
        create: In write mode, whether a new storage may be made: a missing SQLite file
            (with its folder), or Optuna's tables in a database without tables.
        heartbeat_interval: Seconds between a running trial's heartbeats (write mode).
        grace_period: Seconds without a heartbeat after which a running trial is taken for
            dead (its worker was killed), failed, and its parameters queued again. Optuna's
            recommended ratio; long enough for a busy machine to miss a beat or two.

    Returns:
        The storage.

    Raises:
        StorageError: when the URL is malformed, the database unreachable, not an Optuna
            storage (tables of another program), of another Optuna schema version, read-only
            or (SQLite) in a read-only folder in write mode, or (read-only or `create=False`)
            a SQLite file does not exist or the database has no tables.
    """
    parsed, shown = _parse(url)
    new_file = _new_sqlite_file(parsed, shown, read_only=read_only, create=create)
    if new_file is not None:
        try:
            new_file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # e.g. made read-only since it was checked
            raise StorageError(f"`storage` must lie in a folder that can be created, but "
                               f"{str(new_file.parent)!r} for {shown!r} cannot be "
                               f"({error.strerror}).") from None
    engine_kwargs = _engine_kwargs(parsed)
    tables_made = check_database(parsed, shown, engine_kwargs, read_only=read_only,
                                 create=create)

    def opened(skip_table_creation: bool) -> optuna.storages.RDBStorage:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            heartbeats = {} if read_only else {
                "heartbeat_interval": heartbeat_interval, "grace_period": grace_period,
                "heartbeat_stale_trial_callback": stale_callback()}
            storage = optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs,
                                                 skip_table_creation=skip_table_creation,
                                                 **heartbeats)
        if not read_only:  # so that a queued trial is popped by one SQLite worker only
            lock_when_transactions_begin(storage.engine)
        return storage

    try:
        # Optuna's schema check refuses another version before anything is written, unless
        # Optuna first creates the tables it misses: only a new storage gets them.
        try:
            return opened(tables_made or read_only)
        except sqlalchemy.exc.IntegrityError:
            # Two workers created a new storage at once and the other stamped its version
            # first ("UNIQUE constraint failed: alembic_version"): open what it made.
            if not check_database(parsed, shown, engine_kwargs, read_only=read_only):
                raise
            return opened(True)
    except RuntimeError as error:  # Optuna's "no longer compatible with the table schema"
        advice = str(error).replace("$STORAGE_URL", shlex.quote(shown))
        raise StorageError(f"`storage` must have the table schema of the installed Optuna "
                           f"{optuna.__version__}, but {shown!r} does not: {advice}") from None
    except Exception as error:  # SQLAlchemy and the drivers raise many types
        raise StorageError(f"`storage` must be an Optuna storage that can be opened, but "
                           f"{shown!r} cannot ({reason(error, parsed)}).") from None


def check_storage(url: str, *, read_only: bool = False, create: bool = True) -> None:
    """Refuses what `open_storage` would refuse, writing nothing: for a command to fail fast.

    A SQLite file that does not exist yet and may be created passes; the Optuna schema version
    is checked only when the storage is opened.

    Args:
        url: The storage URL.
        read_only: As for `open_storage`.
        create: As for `open_storage`.

    Raises:
        StorageError: as `open_storage` does.
    """
    parsed, shown = _parse(url)
    if _new_sqlite_file(parsed, shown, read_only=read_only, create=create) is None:
        check_database(parsed, shown, _engine_kwargs(parsed), read_only=read_only,
                       create=create)


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite storage URL names; None for other databases, one in memory, or a
    URL that cannot be read."""
    try:
        parsed = make_url(url)
    except (sqlalchemy.exc.ArgumentError, ValueError):
        return None
    return _sqlite_file(parsed) if parsed.get_backend_name() == "sqlite" else None


def has_study(storage: optuna.storages.BaseStorage, name: str) -> bool:
    """Whether the storage holds a study called `name`."""
    try:
        storage.get_study_id_from_name(name)
    except KeyError:
        return False
    return True


def load_study(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study:
    """The study `name` in the storage, for reading or adding trials.

    Raises:
        StorageError: when there is no such study; the message lists the studies there are.
    """
    if not has_study(storage, name):
        names = sorted(frozen.study_name for frozen in storage.get_all_studies())
        shown = ", ".join(names[:SHOWN_NAMES]) or "none"
        if len(names) > SHOWN_NAMES:
            shown += f", ... ({len(names)} in all)"
        raise StorageError(f"`study_name` must name a study in the storage, but {name!r} is "
                           f"not there (studies: {shown}).")
    return optuna.load_study(study_name=name, storage=storage)


def load_study_if_any(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study | None:
    """The study `name` in the storage, or None where there is none (a step not run yet)."""
    return load_study(storage, name) if has_study(storage, name) else None


def create_or_load_study(storage: optuna.storages.BaseStorage, name: str, *, metric: str,
                         record: dict[str, object] | None = None,
                         check: Callable[[optuna.Study], None] | None = None,
                         sampler: optuna.samplers.BaseSampler | None = None,
                         pruner: optuna.pruners.BasePruner | None = None) -> optuna.Study:
    """The study `name` (maximizing `metric`), created if the storage lacks it.

    Every study a command writes to, search or confirmation, is opened here.

    Args:
        storage: Opened with `open_storage`.
        name: The study's name.
        metric: What its trial values are (`name_metric`).
        record: Stored as the `config` user attribute of a study created here.
        check: Called with the study before anything is written to it; raises to refuse a
            study that exists with other settings.
        sampler: For a study that asks for trials (a search).
        pruner: For a study whose trials report epochs (a search).
    """
    existed = has_study(storage, name)
    study = optuna.create_study(study_name=name, storage=storage, sampler=sampler,
                                pruner=pruner, direction="maximize", load_if_exists=True)
    if record is not None and not existed and CONFIG_ATTR not in study.user_attrs:
        study.set_user_attr(CONFIG_ATTR, record)
    if check is not None:
        check(study)
    name_metric(study, metric)
    return study

def _parse(url: str) -> tuple[URL, str]:
    """The URL parsed, and as messages may show it."""
    shown = mask_password(url)
    try:
        return make_url(url), shown
    except (sqlalchemy.exc.ArgumentError, ValueError):
        raise StorageError(f"`storage` must be a database URL such as {EXAMPLE_URL}, but got "
                           f"{shown!r}.") from None


def _new_sqlite_file(url: URL, shown: str, *, read_only: bool, create: bool) -> Path | None:
    """The SQLite file the URL names if it does not exist yet and may be created, else None.

    Raises:
        StorageError: when the file must exist and does not, is in memory, or (write mode)
            lies in a folder that is read-only.
    """
    if url.get_backend_name() != "sqlite":
        return None
    path = _sqlite_file(url)
    if path is None and read_only:
        raise StorageError(f"`storage` must name a SQLite file to read, but {shown!r} is a "
                           "database in memory.")
    if path is None:
        raise StorageError(f"`storage` must name a SQLite file to keep the study in, but "
                           f"{shown!r} is a database in memory, which loses it when the "
                           "command exits; name a file, e.g. sqlite:///studies/bnstudy.db.")
    if path.is_file():
        if not read_only:
            check_sqlite_folder(path, shown, exists=True)
        return None
    if read_only or not create:
        raise StorageError(f"`storage` must name an existing SQLite file, but {shown!r} does "
                           "not exist.")
    check_not_under_a_file(path, "storage", shown)
    check_sqlite_folder(path, shown, exists=False)
    return path


def check_not_under_a_file(path: Path, argument: str, shown: str) -> None:
    """Refuses a path that cannot be created because a file stands where a folder must.

    Raises:
        StorageError: naming the argument, the file in the way and the path as shown.
    """
    blocking = next((parent for parent in path.parents if parent.is_file()), None)
    if blocking is not None:
        raise StorageError(f"`{argument}` must lie in a folder, but {str(blocking)!r} above "
                           f"{shown!r} is a file.")


def _sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names; None for a database in memory."""
    database = url.database or ""
    if url.query.get("uri") == "true" and database.startswith("file:"):
        if url.query.get("mode") == "memory":
            return None
        database = database[len("file:"):]
    return None if database in ("", ":memory:") else Path(database)


def _engine_kwargs(url: URL) -> dict[str, object]:
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": SQLITE_LOCK_TIMEOUT_S}}
    if url.get_backend_name() in ("postgresql", "mysql") and url.get_driver_name() in (
            "psycopg", "psycopg2", "mysqldb", "pymysql"):
        return {"connect_args": {"connect_timeout": CONNECT_TIMEOUT_S}}
    return {}


def name_metric(study: optuna.Study, name: str) -> None:
    """Names what a study's trial values are, so that optuna-dashboard labels its axes.

    Studies made before names were stored get theirs when resumed.
    """
    if study.metric_names != [name]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([name])
