"""What every command line shares: a user mistake is one line and exit code 2, Ctrl-C is 130.

`python -m study.search`, `python -m study.confirm` and `python -m analysis` all run their work
through `run_command`, so they report mistakes alike: `<prog>: error: <rule and value>`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from study.errors import UsageError

__all__ = ["EXIT_INTERRUPTED", "EXIT_USAGE", "run_command"]

EXIT_USAGE = 2  # argparse's code for a malformed command line; ours for every user mistake
EXIT_INTERRUPTED = 130  # what a shell reports for a process stopped by Ctrl-C (128 + SIGINT)


def run_command(command: Callable[[], str], prog: str) -> int:
    """Runs a command that returns its closing text; returns the process exit code.

    Args:
        command: Does the work and returns what to print at the end.
        prog: The command's name, e.g. "python -m study.search", that starts error lines.

    Returns:
        0 when it finished, EXIT_USAGE for a user mistake (one line on stderr, no traceback),
        EXIT_INTERRUPTED when interrupted (a study is left resumable).
    """
    try:
        text = command()
    except UsageError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; run the same command again to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(text)
    return 0
