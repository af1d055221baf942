"""Every `python -m` command line README (or docs/) shows is one its command accepts as written.

Each line is parsed and checked by the command's own parser and settings check, without
running it (README's lines run studies of minutes to hours): a flag README shows that a command
lacks, or one it requires that README leaves out, fails here.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from analysis.cli import build_parser, config_from_args
from study import confirm, run, search, select

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _readme_commands() -> list[list[str]]:
    """The pages' `python -m MODULE ...` lines (joined where they end in a backslash)."""
    text = "\n".join(page.read_text() for page in PAGES).replace("\\\n", " ")
    lines = re.findall(r"^\s*(?:KERAS_BACKEND=\w+ )?(python -m [^#\n]+)", text, re.M)
    return [shlex.split(line) for line in lines if "..." not in line]


def _accept(argv: list[str]) -> None:
    module, arguments = argv[2], argv[3:]
    if module == "study.search":
        search.parse_config(arguments)
    elif module == "study.confirm":
        confirm._parser().parse_args(arguments)
    elif module == "study.select":
        select._parser().parse_args(arguments)
    elif module == "study.run":
        args = run._parser().parse_args(arguments)
        search.config_from_arguments({key: value for key, value in vars(args).items()
                                      if key not in run.RUN_OPTIONS})
    elif module == "analysis":
        config_from_args(build_parser().parse_args(arguments))
    else:
        raise AssertionError(f"README shows `{shlex.join(argv)}`, a command this test lacks.")


def test_readme_shows_each_command():
    modules = {argv[2] for argv in _readme_commands()}
    assert {"study.run", "study.search", "study.select", "study.confirm", "analysis"} <= modules


@pytest.mark.parametrize("argv", _readme_commands(), ids=shlex.join)
def test_each_command_line_in_readme_is_accepted(argv):
    _accept(argv)  # argparse exits (SystemExit 2) on a line it refuses
