"""Every `python -m` command line README shows is one its command accepts as written.

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
from study import confirm, search

README = Path(__file__).parents[1] / "README.md"


def _readme_commands() -> list[list[str]]:
    """README's `python -m MODULE ...` lines (joined where they end in a backslash)."""
    text = README.read_text().replace("\\\n", " ")
    lines = re.findall(r"^\s*(?:KERAS_BACKEND=\w+ )?(python -m [^#\n]+)", text, re.M)
    return [shlex.split(line) for line in lines if "..." not in line]


def _accept(argv: list[str]) -> None:
    module, arguments = argv[2], argv[3:]
    if module == "study.search":
        search.parse_config(arguments)
    elif module == "study.confirm":
        confirm._parser().parse_args(arguments)
    elif module == "analysis":
        config_from_args(build_parser().parse_args(arguments))
    else:
        raise AssertionError(f"README shows `{shlex.join(argv)}`, a command this test lacks.")


def test_readme_shows_each_command():
    modules = {argv[2] for argv in _readme_commands()}
    assert {"study.search", "study.confirm", "analysis"} <= modules


@pytest.mark.parametrize("argv", _readme_commands(), ids=shlex.join)
def test_each_command_line_in_readme_is_accepted(argv):
    _accept(argv)  # argparse exits (SystemExit 2) on a line it refuses
