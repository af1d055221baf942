"""SQLite transactions that take the write lock when they begin, so that Optuna's
read-check-write updates are atomic between processes sharing one file.

Optuna pops a queued (WAITING) trial by reading its row `FOR UPDATE` and setting it RUNNING
only if it was still WAITING (`RDBStorage.set_trial_state_values`): on PostgreSQL the row
lock makes exactly one caller win. SQLite has no row locks and Python's sqlite3 begins a
transaction only at the first write, so two processes can both read WAITING and both set
RUNNING: both train the same rerun (seen in tests/study/test_rerun_workers.py, three workers
on one file), and two search workers can both run one trial queued by `enqueue_trial`.
`BEGIN IMMEDIATE` (SQLAlchemy's recipe for pysqlite transactions) takes SQLite's one write
lock at the start of each transaction, reads included, so a second process waits for the
first to commit (up to the lock timeout) and then reads RUNNING. The cost: transactions on
one file run one at a time, which for a few workers writing a trial's rows is milliseconds.

Only for storages opened to write: `BEGIN IMMEDIATE` fails on a read-only file.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy

__all__ = ["lock_when_transactions_begin"]


def lock_when_transactions_begin(engine: sqlalchemy.engine.Engine) -> None:
    """Makes every transaction of a SQLite `engine` begin with `BEGIN IMMEDIATE`.

    Connections already pooled are closed, so that each connection the engine hands out from
    now on was opened under the rule. Engines of other databases are left as they are.
    """
    if engine.dialect.name != "sqlite":
        return

    def no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # sqlite3 emits no BEGIN of its own

    def begin_immediate(connection: sqlalchemy.engine.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    sqlalchemy.event.listen(engine, "connect", no_implicit_begin)
    sqlalchemy.event.listen(engine, "begin", begin_immediate)
    engine.dispose()
