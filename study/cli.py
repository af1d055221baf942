"""What the command lines share: a user mistake is one line and exit code 2, Ctrl-C resumes."""

from __future__ import annotations

import sys
from collections.abc import Callable

from study.config import ConfigError
from study.data import DataError

__all__ = ["run_command"]


def run_command(command: Callable[[], str]) -> int:
    """Runs a command that returns its closing text; returns the process exit code.

    Args:
        command: Does the work and returns what to print at the end.

    Returns:
        0 when it finished, 2 for a user mistake (one line on stderr, no traceback), 130 when
        interrupted (the study is left resumable).
    """
    try:
        text = command()
    except (ConfigError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted; run the same command again to resume.", file=sys.stderr)
        return 130
    print(text)
    return 0
