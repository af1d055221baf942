"""One convention for every command line: a mistake is one line and 2, Ctrl-C one line and 130.

The real command lines, interrupted in a subprocess at several moments: tests/test_interrupts.py.
"""

from __future__ import annotations

import importlib
import logging
import signal
import sys
import time

import pytest

from analysis.cli import main as analysis_main
from study.cli import EXIT_INTERRUPTED, EXIT_USAGE, run_command, run_module
from study.confirm import main as confirm_main
from study.search import main as search_main

pytestmark = pytest.mark.usefixtures("ctrl_c_raises")
PROG = "python -m tool"


def test_ctrl_c_in_a_command_is_one_line_and_130(capsys):
    def command() -> str:
        raise KeyboardInterrupt

    assert run_command(command, PROG) == EXIT_INTERRUPTED
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"{PROG}: interrupted; run the same command again to resume.\n"


def test_ctrl_c_turned_into_another_error_by_a_library_still_counts(capsys):
    def command() -> str:  # as TensorFlow's import does with a KeyboardInterrupt inside it
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            raise ImportError("initialization failed") from None
        return "unreachable"

    assert run_command(command, PROG, on_interrupt="nothing was written.") == EXIT_INTERRUPTED
    assert capsys.readouterr().err == f"{PROG}: interrupted; nothing was written.\n"


def test_ctrl_c_landing_where_python_ignores_errors_is_delivered_again(capsys):
    class SignalsWhenCollected:  # a garbage-collector callback or __del__, as JAX has
        def __del__(self) -> None:
            signal.raise_signal(signal.SIGINT)

    def command() -> str:
        SignalsWhenCollected()  # collected at once: its KeyboardInterrupt is ignored there
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # training goes on, until the interrupt comes again
            time.sleep(0.01)
        return "not interrupted"

    assert run_command(command, PROG) == EXIT_INTERRUPTED
    captured = capsys.readouterr()
    assert captured.out == "" and "Exception ignored" not in captured.err
    assert captured.err.count("\n") == 1


def test_ctrl_c_during_an_import_is_held_until_the_import_is_over(tmp_path, monkeypatch, capsys):
    # Raised inside a native module's initialization (jaxlib, imported by TensorFlow), a
    # KeyboardInterrupt aborts the process; so the module must finish importing first.
    (tmp_path / "slow_native_import.py").write_text(
        "import signal, time\n"
        "signal.raise_signal(signal.SIGINT)\n"
        "deadline = time.monotonic() + 0.5\n"
        "while time.monotonic() < deadline:\n"
        "    time.sleep(0.01)\n"
        "finished = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "slow_native_import", raising=False)

    def command() -> str:
        importlib.import_module("slow_native_import")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the held Ctrl-C comes back here
            time.sleep(0.01)
        return "not interrupted"

    assert run_command(command, PROG) == EXIT_INTERRUPTED
    assert sys.modules["slow_native_import"].finished
    assert capsys.readouterr().err.count("\n") == 1
    time.sleep(0.2)  # and no second delivery is left to land after the command


def test_a_held_ctrl_c_still_on_its_way_back_when_the_block_ends_counts_there(
        tmp_path, monkeypatch, capsys):
    # The import ends before the held Ctrl-C comes back (50 ms): it must be noted as the block
    # closes, neither raised out of the closing code nor left to land after the command.
    (tmp_path / "quick_import.py").write_text(
        "import signal\n"
        "signal.raise_signal(signal.SIGINT)\n"
        "def main() -> int:\n"
        "    return 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for attempt in range(2):  # through run_module, then through run_command
        monkeypatch.delitem(sys.modules, "quick_import", raising=False)
        if attempt == 0:
            assert run_module("quick_import", PROG) == EXIT_INTERRUPTED
        else:
            assert run_command(lambda: importlib.import_module("quick_import").__name__,
                               PROG) == EXIT_INTERRUPTED
        assert capsys.readouterr().err.count("\n") == 1
        time.sleep(0.2)  # no delivery is left behind to interrupt this
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_what_a_library_logs_while_unwinding_from_ctrl_c_is_not_shown(caplog, capsys):
    def command() -> str:  # as SQLAlchemy does when interrupted inside a fetch
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            logging.getLogger("library.pool").error("Error closing cursor", exc_info=True)
            raise
        return "unreachable"

    assert run_command(command, PROG) == EXIT_INTERRUPTED
    assert caplog.records == [] and capsys.readouterr().err.count("\n") == 1
    logging.getLogger("library.pool").error("after the command")  # logging is back on
    assert [record.message for record in caplog.records] == ["after the command"]


def test_other_errors_stay_errors_and_the_handler_is_restored():
    def command() -> str:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        run_command(command, PROG)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize(("main", "argv", "message"), [
    (search_main, ["--epochs", "many"], "argument --epochs: invalid int value: 'many'"),
    (confirm_main, ["--max-reruns", "1"], "the following arguments are required: --study-name"),
    (analysis_main, ["--margin", "0.1"], "the following arguments are required: --study-name"),
    (confirm_main, ["--study-name", " "], "`study_name` must name a study with at least one"),
    (confirm_main, ["--study-name", "s", "--allocation", "neyman"],
     "argument --allocation: invalid choice: 'neyman'"),
])
def test_a_bad_command_line_is_one_line_and_2(main, argv, message, capsys):
    assert main(argv) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("python -m ") and message in captured.err


def test_help_exits_0(capsys):
    assert search_main(["--help"]) == 0
    assert "--study-name" in capsys.readouterr().out


@pytest.mark.parametrize("main", [search_main, confirm_main, analysis_main])
def test_a_study_name_ending_in_confirm_is_refused_by_every_command(main, capsys):
    assert main(["--study-name", "fmnist/confirm"]) == EXIT_USAGE
    assert "must not end in '/confirm', which names the reruns of a search, but got " \
           "'fmnist/confirm'" in capsys.readouterr().err
