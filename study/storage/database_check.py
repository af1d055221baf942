"""Whether a database is one Optuna may touch: checked before Optuna creates or reads tables.

`study.storage.opener` calls `check_database` for every storage it opens: a database of another
program, a look-alike of Optuna's tables, a read-only one (or a SQLite file in a read-only
folder) in write mode, or an unreachable server is refused with one line, and nothing is
written. Light on purpose: no Keras, no pandas.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import sqlalchemy
from sqlalchemy.engine import URL

from study.errors import StorageError

__all__ = ["CREATION_WAIT_S", "EXAMPLE_URL", "SHOWN_NAMES", "check_database",
           "check_sqlite_folder", "reason"]

EXAMPLE_URL = "sqlite:///studies/bnstudy.db"
SHOWN_NAMES = 10  # an error lists this many study or table names at most
# What marks a database as Optuna's: the tables Optuna creates (and Alembic's version table),
# and in those the tool reads, the columns it reads. A database of another program is refused
# for holding other tables, a look-alike for holding these tables with other columns.
_OPTUNA_TABLES = {
    "alembic_version", "studies", "study_directions", "study_system_attributes",
    "study_user_attributes", "trial_heartbeats", "trial_intermediate_values", "trial_params",
    "trial_system_attributes", "trial_user_attributes", "trial_values", "trials",
    "version_info"}
_OPTUNA_COLUMNS = {
    "studies": {"study_id", "study_name"},
    "version_info": {"schema_version", "library_version"},
    "trials": {"trial_id", "number", "study_id", "state"},
    "trial_params": {"trial_id", "param_name", "param_value", "distribution_json"},
    "trial_values": {"trial_id", "objective", "value"},
    "trial_user_attributes": {"trial_id", "key", "value_json"},
    "study_user_attributes": {"study_id", "key", "value_json"},
}
# A storage another worker is creating right now has some of Optuna's tables but not yet its
# Alembic stamp, the last thing Optuna writes: wait this long for it to finish.
CREATION_WAIT_S = 10.0


def check_database(url: URL, shown: str, engine_kwargs: dict[str, object], *,
                    read_only: bool, create: bool = True) -> bool:
    """Refuses a database Optuna must not touch; returns whether Optuna's tables are made.

    Made means past `version_info`, Optuna's second table: its schema version can be checked,
    and Optuna must not add tables (to a storage of an older schema) before checking it.
    A database without tables is Optuna's to fill only in write mode with `create`: a command
    that needs studies already there (confirm, select) must not fill an empty file the user
    made, or an empty database, with Optuna's tables before finding no study in them.

    Reads the table names (and the columns of Optuna's marker tables) and, in write mode,
    tries a write that changes nothing, in a transaction that is rolled back.
    """
    try:
        engine = sqlalchemy.create_engine(url, **engine_kwargs)
    except ImportError as error:
        raise StorageError(f"`storage` needs an installed database driver, but {shown!r} asks "
                           f"for {url.drivername!r} ({error}); for PostgreSQL install "
                           "bnstudy[postgres].") from None
    except sqlalchemy.exc.ArgumentError:
        raise StorageError(f"`storage` must be a database URL such as {EXAMPLE_URL}, but got "
                           f"{shown!r}.") from None
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite:
        _make_transactional(engine)
    try:
        try:
            connection = engine.connect()
        except sqlalchemy.exc.SQLAlchemyError as error:
            what = ("a SQLite file that can be opened" if sqlite
                    else "a reachable database server")
            state = "cannot be opened" if sqlite else "is unreachable"
            raise StorageError(f"`storage` must be {what}, but {shown!r} {state} "
                               f"({reason(error, url)}).") from None
        with connection:
            tables = _optuna_tables(connection, shown, url, sqlite=sqlite)
            waited = 0.0
            while (tables and not _creation_finished(connection, tables)
                   and waited < CREATION_WAIT_S):
                time.sleep(0.5)  # another worker is creating the tables: let it finish
                waited += 0.5
                connection.rollback()
                tables = _optuna_tables(connection, shown, url, sqlite=sqlite)
            if not tables and (read_only or not create):
                raise StorageError(f"`storage` must hold Optuna studies, but {shown!r} has no "
                                   "tables.")
            if not read_only:
                _probe_write(connection, shown, url, has_tables=bool(tables))
    finally:
        engine.dispose()
    return "version_info" in tables


def check_sqlite_folder(path: Path, shown: str, *, exists: bool) -> None:
    """Refuses a SQLite file whose folder (or, for a new file, the nearest existing folder
    above it) this process cannot write to.

    SQLite writes a journal beside the file for every change, so a file in a read-only folder
    cannot be written to even where the file itself may be, and the driver only says so at
    the first write, as an error of the transaction. `os.access` asks the kernel, which also
    answers for root in an immutable folder (`chattr +i`) or on a read-only mount.
    """
    folder = next(parent for parent in path.parents if parent.exists())
    if os.access(folder, os.W_OK | os.X_OK):
        return
    if exists:
        raise StorageError(f"`storage` must lie in a folder that can be written to (SQLite "
                           f"writes a journal beside its file), but the folder {str(folder)!r} "
                           f"of {shown!r} is read-only; `python -m analysis` can still read it.")
    raise StorageError(f"`storage` must lie in a folder that can be written to, to be created, "
                       f"but {str(folder)!r}, where {shown!r} would be made, is read-only.")


def _creation_finished(connection: sqlalchemy.engine.Connection, tables: set[str]) -> bool:
    """Whether Optuna finished creating this storage: its Alembic version is stamped."""
    if "alembic_version" not in tables:
        return False
    try:
        stamped = connection.execute(sqlalchemy.text("SELECT COUNT(*) FROM alembic_version"))
        return bool(stamped.scalar())
    except sqlalchemy.exc.SQLAlchemyError:
        return False


def _optuna_tables(connection: sqlalchemy.engine.Connection, shown: str, url: URL, *,
                   sqlite: bool) -> set[str]:
    """The database's table names, once it is known to hold Optuna's tables or none.

    Raises:
        StorageError: for tables of another program, or Optuna's table names with columns
            other than Optuna's (a look-alike).
    """
    try:
        inspector = sqlalchemy.inspect(connection)
        tables = set(inspector.get_table_names())
        missing = {table: sorted(columns - {column["name"]
                                            for column in inspector.get_columns(table)})
                   for table, columns in _OPTUNA_COLUMNS.items() if table in tables}
    except sqlalchemy.exc.SQLAlchemyError as error:
        what = "SQLite" if sqlite else "readable"
        raise StorageError(f"`storage` must be a {what} database, but {shown!r} is not "
                           f"({reason(error, url)}).") from None
    # Tables Optuna never makes, and look-alikes: Optuna's names without Optuna's columns.
    foreign = sorted((tables - _OPTUNA_TABLES) | {t for t, columns in missing.items() if columns})
    if foreign:
        listed = ", ".join(foreign[:SHOWN_NAMES])
        raise StorageError(
            f"`storage` must be an Optuna storage or an empty database, but {shown!r} "
            f"holds tables of another program ({listed}); name another database.")
    return tables


def _make_transactional(engine: sqlalchemy.engine.Engine) -> None:
    """Lets a SQLite transaction include table creation, so that rolling back undoes it.

    Python's sqlite3 driver begins transactions only before INSERT/UPDATE/DELETE, so a CREATE
    TABLE would be committed at once; here every transaction starts with an explicit BEGIN.
    """

    @sqlalchemy.event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection: object, record: object) -> None:
        dbapi_connection.isolation_level = None  # type: ignore[attr-defined]

    @sqlalchemy.event.listens_for(engine, "begin")
    def _begin(connection: sqlalchemy.engine.Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def _probe_write(connection: sqlalchemy.engine.Connection, shown: str, url: URL, *,
                 has_tables: bool) -> None:
    """Refuses a database that does not accept writes, by one that changes nothing.

    The probe runs in a transaction of its own: SQLite waits out another writer's lock only for
    a connection that holds no read transaction, so one left open by the inspection above
    would turn a busy database into "database is locked" at once.
    """
    connection.rollback()
    probe = ("UPDATE studies SET study_name = study_name WHERE 1 = 0" if has_tables
             else "CREATE TABLE bnstudy_write_probe (id INTEGER)")
    try:
        connection.execute(sqlalchemy.text(probe))
    except sqlalchemy.exc.SQLAlchemyError as error:
        raise StorageError(f"`storage` must accept writes to search or confirm, but {shown!r} "
                           f"is read-only ({reason(error, url)}); `python -m analysis` can "
                           "still read it.") from None
    finally:
        connection.rollback()


def reason(error: Exception, url: URL) -> str:
    """The first line of a driver's error, the password (should it quote it) masked."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    reason = lines[0] if lines else type(cause).__name__
    return reason.replace(url.password, "***") if url.password else reason
