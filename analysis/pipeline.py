"""From a storage and a study name to every number the report shows, without drawing.

The verdict comes from the confirmation reruns (NAME/confirm) when each placement has at least
MIN_PER_PLACEMENT COMPLETE reruns (`analysis.verdict`); otherwise from the search alone,
provisionally (`analysis.provisional`): the top-k COMPLETE trials of each placement by validation
accuracy, k = max(2, a quarter of the smaller placement), the same k on both sides.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.storages import BaseStorage

from analysis.boundary import (
    Divergence,
    EdgeWarning,
    divergence,
    divergence_warning,
    edge_warnings,
)
from analysis.expected_max import ExpectedMaxCurve, leader_by_budget, placement_curves
from analysis.importance import ImportanceResult, param_importances
from analysis.instability import (
    chance_warning,
    collapsed_neighbour_warnings,
    heavy_tail_warning,
)
from analysis.isolation import isolation_table
from analysis.loading import AnalysisError, LoadedStudies, complete_values, load_studies
from analysis.provisional import N_PERMUTATIONS, compare_top_trials
from analysis.selection import SelectionView, near_tie_warning, selection_view
from analysis.verdict import DEFAULT_INTERVAL, DEFAULT_MARGIN, Comparison, compare_placements
from study.storage.contract import PLACEMENTS, SCIENTIFIC_PARAM

MIN_PER_PLACEMENT = 2  # a standard deviation needs two values
TOP_FRACTION = 0.25  # "the good trials" of the provisional verdict: the top quarter

Source = Literal["confirm", "search"]


@dataclass(frozen=True)
class Analysis:
    """Everything the report needs: inputs, the verdict and the evidence around it."""

    loaded: LoadedStudies
    study_name: str
    source: Source
    comparison: Comparison
    compared: dict[str, pd.DataFrame]  # placement -> rows (trials or reruns) behind the verdict
    source_notes: tuple[str, ...]
    importance: ImportanceResult
    isolation: pd.DataFrame
    curves: tuple[ExpectedMaxCurve, ...]
    leaders: pd.DataFrame | None
    edges: tuple[EdgeWarning, ...]
    divergence: Divergence
    axis_params: tuple[str, ...]
    selection: SelectionView | None = None  # how the rerun configurations were chosen

    @property
    def warnings(self) -> tuple[str, ...]:
        """Sentences the report puts under "Warnings"."""
        found = [edge.message() for edge in self.edges]
        found.append(divergence_warning(self.divergence))
        found.append(chance_warning(self.loaded.trials, self.loaded.config.get("num_classes")))
        picks = None  # the selection's picks where it reran candidates, else the search's best
        if self.selection is not None and self.selection.rerun:
            picks = {placement: chosen.pick
                     for placement, chosen in self.selection.selections.items()}
        found += collapsed_neighbour_warnings(self.loaded.study.get_trials(deepcopy=False),
                                              picks=picks)
        if self.source == "confirm":
            found.append(heavy_tail_warning(self.compared))
        found.append(near_tie_warning(self.selection))
        return tuple(sentence for sentence in found if sentence)


def search_top_trials(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Pick the top-k COMPLETE trials of each placement for the provisional verdict.

    Args:
        frame: A trials table from `analysis.loading.trials_frame`.

    Returns:
        Placement -> its top-k rows, best first (same k for both).
    """
    counts = {p: len(complete_values(frame, p)) for p in PLACEMENTS}
    if min(counts.values()) < MIN_PER_PLACEMENT:
        shown = ", ".join(f"{p}: {n}" for p, n in counts.items())
        raise AnalysisError(
            f"A verdict needs at least {MIN_PER_PLACEMENT} COMPLETE trials with a finite value "
            f"per `{SCIENTIFIC_PARAM}`, but the study has {shown}."
        )
    k = max(MIN_PER_PLACEMENT, math.floor(TOP_FRACTION * min(counts.values())))
    return {p: frame.loc[complete_values(frame, p).index[:k]] for p in PLACEMENTS}


def confirm_runs(confirm: pd.DataFrame | None, *, paired: bool = False
                 ) -> tuple[dict[str, pd.DataFrame] | None, str]:
    """Select the COMPLETE reruns per placement, or explain why they cannot give the verdict.

    Args:
        confirm: The confirmation table of `LoadedStudies`, or None.
        paired: Keep only the seeds both placements have, in seed order (row i of each
            placement is then pair i).

    Returns:
        (placement -> rows, "") when usable, else (None, the reason; "" if there is no study).
    """
    if confirm is None:
        return None, ""
    finished = confirm[(confirm["state"] == "COMPLETE") & confirm["value"].map(math.isfinite)]
    if finished.empty:  # a confirmation just started: its table may lack the parameter columns
        runs = {p: finished for p in PLACEMENTS}
    else:
        runs = {p: finished[finished[SCIENTIFIC_PARAM] == p] for p in PLACEMENTS}
    if paired and not finished.empty:
        common = set(runs["before"]["seed"]) & set(runs["after"]["seed"])
        runs = {p: rows[rows["seed"].isin(common)].sort_values("seed", kind="stable")
                for p, rows in runs.items()}
    if min(len(rows) for rows in runs.values()) < MIN_PER_PLACEMENT:
        shown = ", ".join(f"{p}: {len(rows)}" for p, rows in runs.items())
        return None, (
            f"The confirmation study exists but has too few COMPLETE reruns ({shown}; at least "
            f"{MIN_PER_PLACEMENT} per placement needed), so the verdict comes from the search."
        )
    return runs, ""


def numeric_params(loaded: LoadedStudies) -> tuple[str, ...]:
    """Return the numeric (float or int) parameters of the search, in study order."""
    return tuple(
        name
        for name in loaded.param_names
        if isinstance(loaded.distributions.get(name), FloatDistribution | IntDistribution)
    )


@dataclass(frozen=True)
class Decision:
    """The verdict, where it came from, and the rows (trials or reruns) behind it."""

    source: Source
    comparison: Comparison
    compared: dict[str, pd.DataFrame]
    notes: tuple[str, ...]


def decide(
    loaded: LoadedStudies, margin: float = DEFAULT_MARGIN, *, n_permutations: int = N_PERMUTATIONS,
    interval: str = DEFAULT_INTERVAL,
) -> Decision:
    """Draw the verdict from the reruns when usable, else provisionally from the search.

    Args:
        loaded: Output of `analysis.loading.load_studies`.
        margin: Equivalence margin in accuracy (fraction).
        n_permutations: Permutations of the provisional (search) test.
        interval: The reruns' interval, "anytime" or "welch" (`analysis.verdict`).

    Returns:
        The decision.
    """
    paired = loaded.paired
    runs, note = confirm_runs(loaded.confirm, paired=paired)
    notes = (note,) if note else ()
    if runs is not None:
        if paired:
            lone = int((loaded.confirm["state"] == "COMPLETE").sum()) - 2 * len(runs["before"])
            if lone:
                notes += (f"{lone} rerun(s) whose pair has not run yet are left out of the "
                          "paired comparison.",)
        comparison = compare_placements(
            runs["before"]["value"].to_numpy(float), runs["after"]["value"].to_numpy(float),
            margin, interval=interval, paired=paired,
        )
        return Decision("confirm", comparison, runs, notes)
    top_trials = search_top_trials(loaded.trials)  # raises if the search has too few trials
    pools = [complete_values(loaded.trials, p).to_numpy(float) for p in PLACEMENTS]
    k = len(top_trials["before"])
    comparison = compare_top_trials(*pools, k, margin, n_permutations=n_permutations)
    return Decision("search", comparison, top_trials, notes)


def analyze(
    storage: str | BaseStorage,
    study_name: str,
    *,
    margin: float = DEFAULT_MARGIN,
    importance_seeds: Sequence[int] = (0, 1, 2, 3, 4),
    n_trees: int = 64,
    interval: str = DEFAULT_INTERVAL,
) -> Analysis:
    """Load the studies and compute the verdict, importances, isolation and checks.

    Args:
        storage: Storage URL or object holding NAME (and maybe NAME/confirm).
        study_name: Name of the search study.
        margin: Equivalence margin in accuracy (fraction).
        importance_seeds: Seeds over which importances are repeated.
        n_trees: Trees of the fANOVA forest.
        interval: The reruns' interval, "anytime" or "welch" (`analysis.verdict`).

    Returns:
        The analysis.
    """
    loaded = load_studies(storage, study_name)
    frame = loaded.trials
    # First: an unusable study fails before the slow fANOVA.
    decision = decide(loaded, margin, interval=interval)
    curves = placement_curves(frame)
    return Analysis(
        loaded=loaded,
        study_name=study_name,
        source=decision.source,
        comparison=decision.comparison,
        compared=decision.compared,
        source_notes=decision.notes,
        importance=param_importances(loaded.study, seeds=importance_seeds, n_trees=n_trees),
        isolation=isolation_table(frame),
        curves=tuple(curves),
        leaders=leader_by_budget(curves) if len(curves) == len(PLACEMENTS) else None,
        edges=tuple(edge_warnings(frame, loaded.distributions)),
        divergence=divergence(frame),
        axis_params=numeric_params(loaded),
        # A finished selection is shown before the confirmation has reruns too: the winner's
        # curse in numbers, and the near-ties, while the verdict is still provisional.
        selection=(selection_view(loaded, decision.compared)
                   if decision.source == "confirm" or loaded.select_study is not None
                   else None),
    )
