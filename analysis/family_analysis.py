"""Every finding of a family of training budgets: each member's `Analysis`, side by side.

Each member is analysed as a study of its own (`analysis.study_analysis.analyze`: its verdict
from its confirmation where it has one, else provisionally from its search); the family adds
what only the members together show (`analysis.findings.budgets`): whether the verdict depends
on the budget, the plateau of the picks' selection means, and the picks' learning curves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from optuna.storages import BaseStorage

from analysis.findings.budgets import BudgetFamily, BudgetResult
from analysis.findings.learning_curves import pick_curves
from analysis.reading.budgets import Member, family_studies
from analysis.study_analysis import Analysis, analyze
from study.storage.contract import CONFIG_ATTR

__all__ = ["FamilyAnalysis", "analyze_family", "budget_result", "family_analysis"]


@dataclass(frozen=True)
class FamilyAnalysis:
    """The members' analyses, shortest budget first, and what they show together; `pending`,
    the longer members left out for now (each with why: its search has too few finished
    trials for a verdict yet)."""

    members: tuple[Member, ...]
    analyses: tuple[Analysis, ...]  # one per member, in the same order
    budgets: BudgetFamily
    pending: tuple[tuple[Member, str], ...] = ()

    @property
    def family(self) -> str:
        """The family's name: its first study's."""
        return self.budgets.family


def budget_result(epochs: int, analysis: Analysis) -> BudgetResult:
    """One member's verdict, its picks' selection means (where the selection reran them),
    their learning curves, and whether its selection has every rerun it planned."""
    means = seeds = None
    finished = True
    view = analysis.selection
    if view is not None and view.rerun:
        picks = {value: chosen.candidate(chosen.pick) for value, chosen in view.selections.items()}
        means = {value: pick.mean for value, pick in picks.items()}
        seeds = {value: len(pick.values) for value, pick in picks.items()}
        record = analysis.loaded.select_study.user_attrs.get(CONFIG_ATTR) or {}
        planned = int(record.get("seeds", 0))
        finished = all(len(candidate.values) >= planned for chosen in view.selections.values()
                       for candidate in chosen.candidates)
    return BudgetResult(epochs, analysis.study_name, analysis.source, analysis.comparison,
                        means, seeds, pick_curves(analysis.loaded, view),
                        selection_finished=finished)


def family_analysis(members: Sequence[Member], analyses: Sequence[Analysis],
                    pending: Sequence[tuple[Member, str]] = ()) -> FamilyAnalysis:
    """The family of members already analysed (one `Analysis` each, the same order), and the
    longer members not analysable yet (`pending`: each with the reason).

    Raises:
        ValueError: for a different number of members and analyses, or analyses of
            different questions or margins (a family answers one question).
    """
    if len(members) != len(analyses) or not members:
        raise ValueError(f"`analyses` must hold one analysis per member ({len(members)}), but "
                         f"got {len(analyses)}.")
    first = analyses[0]
    for analysis in analyses[1:]:
        if (analysis.loaded.question, analysis.comparison.margin) != (
                first.loaded.question, first.comparison.margin):
            raise ValueError(f"`analyses` must share one question and margin, but "
                             f"{analysis.study_name!r} compares {analysis.loaded.question} at "
                             f"{analysis.comparison.margin}, {first.study_name!r} "
                             f"{first.loaded.question} at {first.comparison.margin}.")
    results = tuple(budget_result(member.epochs, analysis)
                    for member, analysis in zip(members, analyses, strict=True))
    budgets = BudgetFamily(members[0].study_name, first.loaded.question,
                           first.comparison.margin, results)
    return FamilyAnalysis(tuple(members), tuple(analyses), budgets, tuple(pending))


def analyze_family(storage: str | BaseStorage, study_name: str,
                   **settings: object) -> FamilyAnalysis:
    """Find the family whose first study is `study_name` and analyse every member.

    Args:
        storage: Storage URL or object holding the family.
        study_name: The family's first study.
        **settings: Keyword arguments of `analyze` (margin, interval, importance_seeds...).

    Returns:
        The family's analysis.

    Raises:
        AnalysisError, StorageError: as `analysis.reading.budgets.family_studies` and `analyze`.
    """
    members = family_studies(storage, study_name)
    return family_analysis(members, [analyze(storage, member.study_name, **settings)
                                     for member in members])
