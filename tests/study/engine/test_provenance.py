"""Which code a run records, and the rule that results/ storages come from a clean commit."""

from __future__ import annotations

import subprocess

import pytest

import study.engine.provenance as provenance
from study.confirm import main as confirm_main
from study.search import main as search_main
from study.select import main as select_main


def _git(folder, *arguments: str) -> str:
    return subprocess.run(["git", "-C", str(folder), *arguments], check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A git checkout with one code file and one results file, committed."""
    _git(tmp_path, "init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "study.db").write_text("v1")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    monkeypatch.setattr(provenance, "_ROOT", tmp_path)
    provenance.code_version.cache_clear()
    yield tmp_path
    provenance.code_version.cache_clear()


def test_a_run_writing_its_own_results_storage_still_reads_as_clean(checkout):
    commit = _git(checkout, "rev-parse", "--short=12", "HEAD")
    (checkout / "results" / "study.db").write_text("v2, grown by the run")

    assert provenance.code_version() == commit and provenance.is_clean(commit)


def test_a_changed_code_file_reads_as_dirty(checkout):
    (checkout / "code.py").write_text("x = 2\n")

    version = provenance.code_version()
    assert version.endswith("+dirty") and not provenance.is_clean(version)
    assert not provenance.is_clean("unknown") and not provenance.is_clean(None)


@pytest.mark.parametrize(("main", "argv"), [
    (search_main, []),
    (select_main, ["--study-name", "s"]),
    (confirm_main, ["--study-name", "s"]),
])
def test_every_command_refuses_a_results_storage_from_uncommitted_code(
        main, argv, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(provenance, "code_version", lambda: "4f5d5e0e37aa+dirty")
    storage = tmp_path / "results" / "s.db"

    assert main([*argv, "--storage", f"sqlite:///{storage}"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.endswith(f"error: `storage` may be a results/ file only from a clean commit "
                         f"(published results name the code they ran on), but {storage} would "
                         "be written by 4f5d5e0e37aa+dirty; commit first (or run from a `git "
                         "worktree` of the commit), or pass --allow-dirty.")
    assert not storage.parent.exists()
    provenance.check_storage_clean(f"sqlite:///{storage}", allow_dirty=True)  # the flag
    provenance.check_storage_clean(f"sqlite:///{tmp_path / 's.db'}", allow_dirty=False)
