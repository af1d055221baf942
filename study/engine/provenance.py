"""Which code a trial or rerun ran on, and the rule that published results come from a
clean tree.

Every trial and rerun stores `code_version()`: the commit, with "+dirty" when tracked files
outside `results/` differ from it. `results/` is left out because a published run writes its
own storage and report there: counted, every published rerun would read as dirty.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from study.errors import ConfigError

__all__ = ["DIRTY_SUFFIX", "RESULTS_FOLDER", "check_clean_for_results", "check_storage_clean",
           "code_version", "is_clean"]

DIRTY_SUFFIX = "+dirty"
RESULTS_FOLDER = "results"  # where published storages live; runs into it need a clean tree
_ROOT = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """The git commit this code runs from, "+dirty" when tracked files outside `results/`
    differ from it; "unknown" outside a git checkout (an installed copy, a GPU host given the
    files alone)."""
    try:
        commit, dirty = (subprocess.run(["git", "-C", str(_ROOT), *arguments], check=True,
                                        capture_output=True, text=True, timeout=30).stdout.strip()
                         for arguments in (["rev-parse", "--short=12", "HEAD"],
                                           ["status", "--porcelain", "--untracked-files=no",
                                            "--", ".", f":(exclude){RESULTS_FOLDER}"]))
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + (DIRTY_SUFFIX if dirty else "")


def is_clean(version: str | None) -> bool:
    """Whether a stored code version names a commit with a clean tree."""
    return bool(version) and version != "unknown" and not version.endswith(DIRTY_SUFFIX)


def check_clean_for_results(paths: dict[str, str | None], *, allow_dirty: bool) -> None:
    """Refuses to write a `results/` storage (or its snapshot) from uncommitted code.

    Args:
        paths: Argument name -> file it writes (None: not given).
        allow_dirty: The user's `--allow-dirty`: write anyway (the report lists such reruns).

    Raises:
        ConfigError: naming the argument and its path, when one lies in a folder named
            `results` and the code differs from its commit (or is not in git).
    """
    if allow_dirty:
        return
    for argument, path in paths.items():
        if path is None or RESULTS_FOLDER not in Path(path).resolve().parts:
            continue
        version = code_version()
        if not is_clean(version):
            raise ConfigError(f"`{argument}` may be a {RESULTS_FOLDER}/ file only from a clean "
                              f"commit (published results name the code they ran on), but "
                              f"{path} would be written by {version}; commit first (or run "
                              "from a `git worktree` of the commit), or pass --allow-dirty.")


def check_storage_clean(storage: str, *, allow_dirty: bool, snapshot: str | None = None) -> None:
    """`check_clean_for_results` for a storage URL (its SQLite file) and a snapshot path."""
    prefix = "sqlite:///"
    path = storage[len(prefix):] if storage.startswith(prefix) else None
    check_clean_for_results({"storage": path or None, "snapshot": snapshot},
                            allow_dirty=allow_dirty)
