"""Every command, found in the tree, answers --help and refuses one bad input as all must.

A command is a module of `study/` or a script of `experiments/` that runs as `__main__`, or the
`analysis` package. Each needs an entry in BAD_INPUT here, so a new command cannot skip the
checks: `--help` exits 0; a bad input exits 2 with one line on stderr that starts with the
command's name, no traceback, and nothing written.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import analysis.cli
from study import confirm, rename, run, search, select, snapshot

ROOT = Path(__file__).parents[1]


def _results_readme():
    spec = importlib.util.spec_from_file_location(
        "results_readme", ROOT / "experiments" / "results_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAINS = {
    "python -m study.search": lambda: search.main,
    "python -m study.select": lambda: select.main,
    "python -m study.confirm": lambda: confirm.main,
    "python -m study.snapshot": lambda: snapshot.main,
    "python -m study.rename": lambda: rename.main,
    "python -m study.run": lambda: run.main,
    "python -m analysis": lambda: analysis.cli.main,
    "python experiments/results_readme.py": lambda: _results_readme().main,
}
# One bad input each, and the rule its one line must state ({tmp}: the test's folder).
BAD_INPUT = {
    "python -m study.search": (["--n-trials", "0", "--storage", "sqlite:///{tmp}/s.db"],
                               "`n_trials` must be positive, but got 0."),
    "python -m study.confirm": (["--study-name", "s", "--max-reruns", "1000000000000",
                                 "--storage", "sqlite:///{tmp}/s.db"],
                                "`seeds` must be at most 100000 per value"),
    "python -m study.select": (["--study-name", "s", "--seeds", "1",
                                "--storage", "sqlite:///{tmp}/s.db"],
                               "`seeds` must be between 2 (a mean and a spread) and 400"),
    "python -m study.snapshot": (["{tmp}/missing.db", "{tmp}/copy.db"],
                                 "`source` must be an existing SQLite file"),
    "python -m study.run": (["--top-k", "0", "--storage", "sqlite:///{tmp}/s.db"],
                            "`top_k` must be between 1 and 100 candidates per value"),
    "python -m study.rename": (["old", " ", "--storage", "sqlite:///{tmp}/s.db"],
                               "`new` must name a study with at least one visible"),
    "python -m analysis": (["--study-name", "x" * 5000, "--storage", "sqlite:///{tmp}/s.db"],
                           "must be at most 200 characters (it names a report folder)"),
    "python experiments/results_readme.py": (
        ["--storage", "sqlite:///{tmp}/s.db", "--study-name", "s", "--results", "{tmp}",
         "--command", "bash run.sh"], "must name an existing SQLite file"),
}


def _commands_in_the_tree() -> set[str]:
    found = {"python -m analysis"} if (ROOT / "analysis" / "__main__.py").is_file() else set()
    for path in sorted((ROOT / "study").glob("*.py")):
        if 'if __name__ == "__main__":' in path.read_text():
            found.add(f"python -m study.{path.stem}")
    for path in sorted((ROOT / "experiments").glob("*.py")):
        if 'if __name__ == "__main__":' in path.read_text():
            found.add(f"python experiments/{path.name}")
    return found


def test_every_command_in_the_tree_is_checked_here():
    assert _commands_in_the_tree() == set(MAINS) == set(BAD_INPUT)


@pytest.mark.parametrize("command", sorted(MAINS))
def test_help_exits_0(command, capsys):
    assert MAINS[command]()(["--help"]) == 0
    assert "usage:" in capsys.readouterr().out


@pytest.mark.parametrize("command", sorted(BAD_INPUT))
def test_a_bad_input_is_one_line_exit_2_and_writes_nothing(command, capsys, tmp_path):
    arguments, rule = BAD_INPUT[command]

    code = MAINS[command]()([argument.format(tmp=tmp_path) for argument in arguments])

    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith(f"{command}: error: ") and rule in captured.err
    assert list(tmp_path.iterdir()) == []


HEAVY = ("keras", "tensorflow", "matplotlib", "jax", "torch", "optuna_dashboard")
MODULES = {command: command.split()[-1] for command in MAINS if command.startswith("python -m")}


def test_help_is_light_it_loads_no_keras_tensorflow_or_matplotlib():
    import subprocess
    import sys

    # One process for every command (each a few seconds of start-up otherwise): after each
    # --help, the heavy libraries loaded so far; any command that loads one shows at once.
    code = ("import runpy, sys\n"
            f"for module in {sorted(MODULES.values())!r}:\n"
            "    sys.argv = [module, '--help']\n"
            "    try:\n"
            "        runpy.run_module(module, run_name='__main__', alter_sys=True)\n"
            "    except SystemExit as end:\n"
            "        assert not end.code, (module, end.code)\n"
            f"    print('LOADED', module, sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("LOADED ")]
    assert lines == [f"LOADED {module} []" for module in sorted(MODULES.values())]


def test_an_old_spelling_still_works_for_one_release_and_says_so(capsys):
    from study.search import parse_config

    config = parse_config(["--reuse-compiled", "off", "--no-balance", "--deterministic"])
    assert (config.reuse_compiled, config.balance, config.deterministic) == (False, False, True)
    assert capsys.readouterr().err.strip().splitlines() == [
        "python -m study.search: `--reuse-compiled off` is deprecated and goes in the next "
        "release; use `--no-reuse-compiled`."]
    assert parse_config(["--reuse-compiled=on", "--balance"]).reuse_compiled is True
    assert parse_config(["--no-reuse-compiled"]).reuse_compiled is False
    assert capsys.readouterr().err.count("deprecated") == 1
