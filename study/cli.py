"""What every command line shares: a user mistake is one line and exit code 2, Ctrl-C is 130.

SIGTERM is handled as Ctrl-C is, and reported as "terminated" with exit code 143.

`python -m study.search`, `python -m study.confirm` and `python -m analysis` all run their work
through `run_command`, so they report mistakes alike: `<prog>: error: <rule and value>`, and
Ctrl-C at any moment of the work alike: one line and exit code 130. The options several
commands share are defined here once (`add_storage`, `add_reuse_compiled`, ...): every yes/no
option is argparse's `BooleanOptionalAction`, and `OneLineParser` still reads the old spellings
of `OLD_SPELLINGS` for one release, with one line on stderr. Light on purpose (standard library
only): an entry module imports it before anything slow.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

from study.errors import UsageError

__all__ = ["EXIT_INTERRUPTED", "EXIT_TERMINATED", "EXIT_USAGE", "OLD_SPELLINGS", "OneLineParser",
           "add_allow_dirty", "add_margin", "add_reuse_compiled", "add_storage", "add_study_name",
           "rewrite_old_spellings", "run_command", "run_module"]

EXIT_USAGE = 2  # argparse's code for a malformed command line; ours for every user mistake
EXIT_INTERRUPTED = 130  # what a shell reports for a process stopped by Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # the same for SIGTERM (128 + 15), which a scheduler or `kill` sends


# -- the options several commands share, each defined once --------------------------------

Group = argparse.ArgumentParser | argparse._ArgumentGroup


def add_allow_dirty(parser: Group) -> None:
    """The flag that lets a command write a results/ storage from uncommitted code
    (`study.engine.provenance`)."""
    parser.add_argument("--allow-dirty", action=argparse.BooleanOptionalAction, default=False,
                        help="write a results/ storage or snapshot from uncommitted code (the "
                             "report lists the reruns that ran so)")


def add_storage(parser: Group, *, default: str | None, help: str | None = None,
                required: bool = False) -> None:
    """`--storage URL`: the Optuna storage (default: `default`; none when `required`)."""
    shown = f" (default: {default})" if default else ""
    parser.add_argument("--storage", default=default, required=required,
                        help=help or f"Optuna storage URL{shown}; postgresql://... for many "
                                     "machines")


def add_study_name(parser: Group, *, required: bool = True,
                   help: str = "name of the search study") -> None:
    """`--study-name NAME`."""
    parser.add_argument("--study-name", required=required, help=help)


def add_margin(parser: Group, *, default: float | None, help: str) -> None:
    """`--margin M`: the equivalence margin, a fraction of accuracy (0.005 is 0.5 pp)."""
    parser.add_argument("--margin", type=float, metavar="M", default=default, help=help)


def add_reuse_compiled(parser: Group, *, default: bool | None, what: str = "trials") -> None:
    """`--reuse-compiled / --no-reuse-compiled`."""
    parser.add_argument("--reuse-compiled", action=argparse.BooleanOptionalAction,
                        default=default,
                        help=f"{what} of an architecture already compiled in this process reuse "
                             "its model, re-initialised (default: on)")


def _on_off(flag: str) -> Callable[[str], list[str]]:
    def rewrite(value: str) -> list[str]:
        if value not in ("on", "off"):
            return [flag, value]  # not the old spelling: argparse says what is wrong
        return [flag if value == "on" else "--no-" + flag[2:]]
    return rewrite


# Old flag -> how its value is spelled now. Each goes in the release after the one it was
# deprecated in (one line on stderr says so each time it is used).
OLD_SPELLINGS: dict[str, Callable[[str], list[str]]] = {
    "--reuse-compiled": _on_off("--reuse-compiled"),
}


def rewrite_old_spellings(argv: Sequence[str], prog: str,
                          spellings: dict[str, Callable[[str], list[str]]] | None = None
                          ) -> list[str]:
    """`argv` with old spellings replaced by new ones, one deprecation line per replacement.

    A flag in `spellings` followed by a value (`--flag VALUE` or `--flag=VALUE`) is rewritten
    by its function; the same flag spelled the new way passes through unchanged.
    """
    spellings = OLD_SPELLINGS if spellings is None else spellings
    rewritten: list[str] = []
    items = list(argv)
    index = 0
    while index < len(items):
        item = items[index]
        flag, equals, value = item.partition("=")
        if flag in spellings and (equals or (index + 1 < len(items)
                                             and not items[index + 1].startswith("-"))):
            if not equals:
                value = items[index + 1]
                index += 1
            new = spellings[flag](value)
            if new != [flag, value]:
                old = f"{flag} {value}"
                print(f"{prog}: `{old}` is deprecated and goes in the next release; use "
                      f"`{' '.join(new)}`.", file=sys.stderr)
            rewritten += new
        else:
            rewritten.append(item)
        index += 1
    return rewritten


# -- parsing and running -----------------------------------------------------------------

class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (the usage is one `--help` away), and which
    still reads the old spellings of `OLD_SPELLINGS` (or its own `old_spellings`), saying so in
    one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    def __init__(self, *args: object,
                 old_spellings: dict[str, Callable[[str], list[str]]] | None = None,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.old_spellings = OLD_SPELLINGS if old_spellings is None else old_spellings

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        args = sys.argv[1:] if args is None else list(args)
        return super().parse_known_args(
            rewrite_old_spellings(args, self.prog, self.old_spellings), namespace)


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
    interruptions = _Interruptions()
    try:
        with interruptions.noted():
            text = command()
    except SystemExit as exit_request:  # argparse: --help, or its one-line error
        return int(exit_request.code or 0)
    except KeyboardInterrupt:
        return _report_interrupt(prog, on_interrupt, interruptions.terminated)
    except UsageError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Exception:
        if interruptions.seen:  # a library turned our KeyboardInterrupt into its own error
            return _report_interrupt(prog, on_interrupt, interruptions.terminated)
        raise
    if interruptions.seen:  # a Ctrl-C came as the block closed: still the user's request
        return _report_interrupt(prog, on_interrupt, interruptions.terminated)
    print(text)
    return 0


def run_module(module: str, prog: str, argv: list[str] | None = None) -> int:
    """Imports `module` and returns what its `main()` returns; Ctrl-C meanwhile is one line.

    For entry points (`__main__.py`, `bnstudy`) whose command module takes seconds to import: a
    Ctrl-C during that import would otherwise end in a traceback, before `run_command` is
    reached.

    Args:
        module: Dotted name of a module with `main(argv=None) -> int`, e.g. "analysis.cli".
        prog: The command's name, for the interruption line.
        argv: The command's arguments; None: the process's command line.

    Returns:
        The exit code.
    """
    interruptions = _Interruptions()
    try:
        with interruptions.noted():
            main = importlib.import_module(module).main
    except KeyboardInterrupt:
        return _report_interrupt(prog, terminated=interruptions.terminated)
    except Exception:
        if interruptions.seen:
            return _report_interrupt(prog, terminated=interruptions.terminated)
        raise
    if interruptions.seen:  # held during the import, it came back as the block closed
        return _report_interrupt(prog, terminated=interruptions.terminated)
    return main() if argv is None else main(argv)


def _report_interrupt(prog: str, advice: str = "run the same command again.",
                      terminated: bool = False) -> int:
    print(f"{prog}: {'terminated' if terminated else 'interrupted'}; {advice}", file=sys.stderr)
    return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED


class _Interruptions:
    """Notes every Ctrl-C while `noted()` runs; `seen` tells whether one came.

    Four ways a Ctrl-C can go wrong in a library, all handled here:
    - it is caught and another error raised instead (tf.data iterators): the note tells an
      interruption from a bug;
    - it lands in code whose exceptions Python ignores, such as a garbage-collector callback
      (JAX registers one), which would print a traceback and let training go on: it is then
      delivered again, silently, until it reaches the command;
    - it lands in Python code that a native module runs while it is imported (TensorFlow
      imports jaxlib, whose nanobind modules call `enum` as they initialize): the C++ side
      cannot pass the exception on and aborts the process. So a Ctrl-C during an import is
      held and delivered again once the import is over (start-up imports take seconds);
    - the library cleans up on its way out and logs what failed with a traceback (SQLAlchemy,
      interrupted inside a fetch: "Error closing cursor"): from the first Ctrl-C until the
      block ends logging is off, since the command's one line says all there is to say.
    A held Ctrl-C still on its way back when the block ends is noted there, not left to land
    after it: the caller checks `seen` once the block is over.
    A SIGTERM (`kill`, a scheduler ending a job) is handled the same way, so a search fails
    its running trial and queues it again instead of leaving it RUNNING until its heartbeat
    runs out, and is reported as "terminated" with exit code 143.
    Signal handlers can only be set from the main thread; elsewhere, and where someone else
    already handles SIGINT (or SIGTERM), nothing is changed for that signal and only plain
    KeyboardInterrupts count.
    """

    def __init__(self) -> None:
        self.seen = False
        self.terminated = False  # a SIGTERM came: handled like Ctrl-C, reported as its own
        self._closing = False
        self._redelivery = _Redelivery()
        self._previous_hook = sys.unraisablehook

    @contextmanager
    def noted(self) -> Iterator[None]:
        """The block during which a Ctrl-C is noted (and raised where that is safe)."""
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.getsignal(signal.SIGINT) if in_main_thread else None
        ours = previous is signal.default_int_handler
        previous_term = signal.getsignal(signal.SIGTERM) if in_main_thread else None
        ours_term = previous_term == signal.SIG_DFL  # else someone else handles SIGTERM
        self._previous_hook = sys.unraisablehook
        logging_disabled = logging.root.manager.disable
        if ours:
            signal.signal(signal.SIGINT, self._note_and_interrupt)
            sys.unraisablehook = self._deliver_again
        if ours_term:
            signal.signal(signal.SIGTERM, self._note_and_interrupt)
        try:
            yield
        finally:
            if ours_term:
                signal.signal(signal.SIGTERM, previous_term)
            if ours:
                self._closing = True  # from here a Ctrl-C is noted, never raised
                self._redelivery.cancel()
                # Runs a SIGINT still pending (raised before the cancel) with our handler,
                # then puts the previous one back.
                signal.signal(signal.SIGINT, previous)
                sys.unraisablehook = self._previous_hook
                logging.disable(logging_disabled)

    def _note_and_interrupt(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGTERM:
            self.terminated = True
        if not self.seen:
            logging.disable(logging.CRITICAL)
        self.seen = True
        if self._closing:
            return
        if _inside_an_import(frame):
            self._redelivery.soon()
            return
        raise KeyboardInterrupt

    def _deliver_again(self, unraisable: sys.UnraisableHookArgs) -> None:
        if self.seen and unraisable.exc_type is not None and issubclass(
                unraisable.exc_type, KeyboardInterrupt):
            self._redelivery.soon()  # raised now, it would land in this ignored callback again
        else:
            self._previous_hook(unraisable)


class _Redelivery:
    """A held Ctrl-C on its way back: SIGINT raised again in a moment, from another thread;
    Python then runs the main thread's handler once more at its next instruction.

    One at a time: a second Ctrl-C meanwhile adds none. After `cancel` returns, SIGINT either
    was never raised again or is already pending in the main thread (raising happens under
    the lock), so the next check of signals runs it: none is left to land later.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()  # re-entrant: `soon` runs in the main thread's handler
        self._timer: threading.Timer | None = None

    def soon(self) -> None:
        with self._lock:
            if self._timer is None:
                self._timer = threading.Timer(0.05, self._deliver)
                self._timer.daemon = True
                self._timer.start()

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _deliver(self) -> None:
        with self._lock:
            if self._timer is not None:  # not cancelled meanwhile
                self._timer = None
                signal.raise_signal(signal.SIGINT)


def _inside_an_import(frame: FrameType | None) -> bool:
    """Whether `frame` runs, at any depth, inside Python's import machinery."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        frame = frame.f_back
    return False
