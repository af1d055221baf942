"""What every command line shares: a user mistake is one line and exit code 2, Ctrl-C is 130.

`python -m study.search`, `python -m study.confirm` and `python -m analysis` all run their work
through `run_command`, so they report mistakes alike: `<prog>: error: <rule and value>`, and
Ctrl-C at any moment of the work alike: one line and exit code 130. Light on purpose (standard
library only): an entry module imports it before anything slow.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from study.errors import UsageError

__all__ = ["EXIT_INTERRUPTED", "EXIT_USAGE", "OneLineParser", "run_command", "run_module"]

EXIT_USAGE = 2  # argparse's code for a malformed command line; ours for every user mistake
EXIT_INTERRUPTED = 130  # what a shell reports for a process stopped by Ctrl-C (128 + SIGINT)
_redelivery_pending = threading.Event()  # a held Ctrl-C is on its way back: see _interrupts_noted


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (the usage is one `--help` away)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def run_command(command: Callable[[], str], prog: str, *,
                on_interrupt: str = "run the same command again to resume.") -> int:
    """Runs a command that returns its closing text; returns the process exit code.

    Args:
        command: Does the work and returns what to print at the end.
        prog: The command's name, e.g. "python -m study.search", that starts error lines.
        on_interrupt: What the interruption line tells the user to do.

    Returns:
        0 when it finished (or showed --help), EXIT_USAGE for a user mistake or a malformed
        command line (one line on stderr, no traceback), EXIT_INTERRUPTED when interrupted
        (one line; a study is left resumable).
    """
    with _interrupts_noted() as interrupted:
        try:
            text = command()
        except SystemExit as exit_request:  # argparse: --help, or its one-line error
            return int(exit_request.code or 0)
        except KeyboardInterrupt:
            return _report_interrupt(prog, on_interrupt)
        except UsageError as error:
            print(f"{prog}: error: {error}", file=sys.stderr)
            return EXIT_USAGE
        except Exception:
            if interrupted():  # a library turned our KeyboardInterrupt into its own error
                return _report_interrupt(prog, on_interrupt)
            raise
    print(text)
    return 0


def run_module(module: str, prog: str) -> int:
    """Imports `module` and returns what its `main()` returns; Ctrl-C meanwhile is one line.

    For entry points (`__main__.py`) whose command module takes seconds to import: a Ctrl-C
    during that import would otherwise end in a traceback, before `run_command` is reached.

    Args:
        module: Dotted name of a module with `main() -> int`, e.g. "analysis.cli".
        prog: The command's name, for the interruption line.

    Returns:
        The exit code.
    """
    with _interrupts_noted() as interrupted:
        try:
            main = importlib.import_module(module).main
        except KeyboardInterrupt:
            return _report_interrupt(prog)
        except Exception:
            if interrupted():
                return _report_interrupt(prog)
            raise
    return main()


def _report_interrupt(prog: str, advice: str = "run the same command again.") -> int:
    print(f"{prog}: interrupted; {advice}", file=sys.stderr)
    return EXIT_INTERRUPTED


@contextmanager
def _interrupts_noted() -> Iterator[Callable[[], bool]]:
    """Notes every Ctrl-C while the block runs; yields a function telling whether one came.

    Three ways a Ctrl-C can go wrong in a library, all handled here:
    - it is caught and another error raised instead (tf.data iterators): the note tells an
      interruption from a bug;
    - it lands in code whose exceptions Python ignores, such as a garbage-collector callback
      (JAX registers one), which would print a traceback and let training go on: it is then
      delivered again, silently, until it reaches the command;
    - it lands in Python code that a native module runs while it is imported (TensorFlow
      imports jaxlib, whose nanobind modules call `enum` as they initialize): the C++ side
      cannot pass the exception on and aborts the process. So a Ctrl-C during an import is
      held and delivered again once the import is over (start-up imports take seconds).
    Signal handlers can only be set from the main thread; elsewhere, and where someone else
    already handles SIGINT, nothing is changed and only plain KeyboardInterrupts count.
    """
    seen = []

    def note_and_interrupt(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)
        if _inside_an_import(frame):
            _deliver_again_soon()
            return
        raise KeyboardInterrupt

    def deliver_again(unraisable: sys.UnraisableHookArgs) -> None:
        if seen and unraisable.exc_type is not None and issubclass(
                unraisable.exc_type, KeyboardInterrupt):
            _deliver_again_soon()  # raised now, it would land in this ignored callback again
        else:
            previous_hook(unraisable)

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if in_main_thread else None
    ours = previous is signal.default_int_handler
    previous_hook = sys.unraisablehook
    if ours:
        signal.signal(signal.SIGINT, note_and_interrupt)
        sys.unraisablehook = deliver_again
    try:
        yield lambda: bool(seen)
    finally:
        if ours:
            signal.signal(signal.SIGINT, previous)
            sys.unraisablehook = previous_hook


def _inside_an_import(frame: FrameType | None) -> bool:
    """Whether `frame` runs, at any depth, inside Python's import machinery."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        frame = frame.f_back
    return False


def _deliver_again_soon() -> None:
    """Raises SIGINT again in a moment, from another thread; Python then runs the main
    thread's handler once more at its next instruction. One delivery at a time: a second
    Ctrl-C meanwhile must not leave a delivery behind for after the command has ended."""
    if _redelivery_pending.is_set():
        return
    _redelivery_pending.set()

    def deliver() -> None:
        _redelivery_pending.clear()
        signal.raise_signal(signal.SIGINT)

    again = threading.Timer(0.05, deliver)
    again.daemon = True
    again.start()
