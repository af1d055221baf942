"""The user mistakes every command reports as one line and exit code 2, never a traceback.

Each part of the tool raises its own subclass of `UsageError`; `study.cli.run_command` (used by
every command line, `analysis` included) catches the base. Light on purpose: no imports.
"""

from __future__ import annotations

__all__ = ["ConfigError", "DataError", "StorageError", "UsageError"]


class UsageError(ValueError):
    """A problem the user has to fix: the message is one line stating the rule and the value."""


class ConfigError(UsageError):
    """A wrong setting of a run: names the argument and the value received."""


class DataError(UsageError):
    """A wrong or unreadable dataset: names the file or argument and what was found."""


class StorageError(UsageError):
    """An Optuna storage that cannot be used as asked: missing, foreign, read-only, unreachable."""
