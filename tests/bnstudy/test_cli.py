"""The `bnstudy` console script runs each module's command under its subcommand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bnstudy.cli import SUBCOMMANDS, main

SCRIPT = Path(sys.executable).with_name("bnstudy")  # installed by `make setup` (setup.cfg)


def test_the_installed_script_runs_a_subcommand_with_the_modules_options(tmp_path):
    missing = tmp_path / "missing.db"
    done = subprocess.run([str(SCRIPT), "snapshot", str(missing), str(tmp_path / "copy.db")],
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"python -m study.snapshot: error: `source` must be an existing SQLite file, but got "
        f"{str(missing)!r}.")
    assert not (tmp_path / "copy.db").exists()


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_subcommand_shows_its_modules_help(name, capsys):
    assert main([name, "--help"]) == 0
    assert "usage: python -m" in capsys.readouterr().out


def test_no_or_an_unknown_subcommand_lists_them_all(capsys):
    assert main([]) == 2
    assert "usage: bnstudy {search,select,confirm,analyse,run,snapshot,rename}" in (
        capsys.readouterr().out)
    assert main(["serach"]) == 2
    assert capsys.readouterr().err.strip() == (
        "bnstudy: error: the subcommand must be one of search, select, confirm, analyse, run, "
        "snapshot, rename, but got 'serach'.")
