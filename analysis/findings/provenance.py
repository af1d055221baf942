"""Which reruns ran from code that no commit holds: the report lists them.

Every rerun stores the code it ran on (`code_version`: "<commit>", or "<commit>+dirty" when
tracked files differed from it; `study.engine.provenance`). A published answer should rest on
reruns of clean commits; the ones that are not (a dirty tree, or no version recorded: reruns
stored before versions were) are named here, per rerun study, with their versions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import optuna

from study.engine.provenance import is_clean

__all__ = ["UNRECORDED", "DirtyReruns", "dirty_reruns", "number_ranges"]

UNRECORDED = "not recorded"  # what a rerun stored before code versions were shows


@dataclass(frozen=True)
class DirtyReruns:
    """The reruns of one rerun study that did not run from a clean commit."""

    study_name: str
    total: int  # reruns in the study
    numbers: tuple[int, ...]  # trial numbers of the reruns not from a clean commit
    versions: dict[str, int]  # their code versions -> how many reruns ran on each


def dirty_reruns(studies: Iterable[optuna.Study | None]) -> tuple[DirtyReruns, ...]:
    """Per rerun study (selection, confirmation) that has any, its reruns not from a clean commit.

    Args:
        studies: Rerun studies; None (a study not run) is skipped.

    Returns:
        One entry per study with at least one such rerun, in the order given.
    """
    found = []
    for study in studies:
        if study is None:
            continue
        trials = study.get_trials(deepcopy=False)
        dirty = [trial for trial in trials if not is_clean(trial.user_attrs.get("code_version"))]
        if not dirty:
            continue
        versions: dict[str, int] = {}
        for trial in dirty:
            version = str(trial.user_attrs.get("code_version") or UNRECORDED)
            versions[version] = versions.get(version, 0) + 1
        found.append(DirtyReruns(study.study_name, len(trials),
                                 tuple(sorted(trial.number for trial in dirty)),
                                 dict(sorted(versions.items(),
                                             key=lambda item: (-item[1], item[0])))))
    return tuple(found)


def number_ranges(numbers: Iterable[int]) -> str:
    """Trial numbers as short runs: (0, 1, 2, 5, 7, 8) -> "0-2, 5, 7-8"."""
    runs: list[list[int]] = []
    for number in sorted(set(numbers)):
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return ", ".join(str(low) if low == high else f"{low}-{high}" for low, high in runs)
