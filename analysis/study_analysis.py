"""From an Optuna study (or a storage and a study name) to every number the report shows,
without drawing or writing anything.

The verdict comes from the confirmation reruns (NAME/confirm) when each placement has at least
MIN_PER_PLACEMENT COMPLETE reruns (`analysis.findings.verdict`); otherwise from the search
alone, provisionally (`analysis.findings.provisional`): the top-k COMPLETE trials of each
placement by value (highest, or lowest for a study that minimises), k = max(2, a quarter of
the smaller placement), the same k on both sides. A study bnstudy did not write has no reruns:
its verdict always comes from its trials.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import optuna
import pandas as pd
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.storages import BaseStorage

from analysis.findings.boundary import (
    Divergence,
    EdgeWarning,
    divergence,
    divergence_warning,
    edge_warnings,
)
from analysis.findings.expected_max import ExpectedMaxCurve, leader_by_budget, placement_curves
from analysis.findings.importance import ImportanceResult, param_importances
from analysis.findings.instability import (
    chance_warning,
    collapsed_neighbour_warnings,
    heavy_tail_warning,
)
from analysis.findings.isolation import GROUP_PARAM, isolation_table
from analysis.findings.provenance import DirtyReruns, dirty_reruns
from analysis.findings.provisional import N_PERMUTATIONS, compare_top_trials
from analysis.findings.selection_view import SelectionView, near_tie_warning, selection_view
from analysis.findings.verdict import ALPHA, DEFAULT_INTERVAL, Comparison, compare_placements
from analysis.reading.errors import TooFewTrials
from analysis.reading.studies import LoadedStudies, complete_values, load_studies
from study.stats.decision import split_alpha
from study.storage.opener import mask_password
from study.storage.question import Question

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
    # The storage as the user named it, for the commands the report suggests; None for a
    # storage object without a URL (an in-memory one).
    storage_url: str | None = None
    # The selection's and confirmation's reruns that ran from code no commit holds.
    dirty_reruns: tuple[DirtyReruns, ...] = ()

    @property
    def shown_storage(self) -> str:
        """The storage URL as the report and the dashboard show it: its password masked."""
        return "STORAGE" if self.storage_url is None else mask_password(self.storage_url)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Sentences the report puts under "Warnings"."""
        found = [edge.message() for edge in self.edges]
        found.append(divergence_warning(self.divergence))
        found.append(chance_warning(self.loaded.trials, self.loaded.config.get("num_classes"),
                                    self.loaded.param))
        picks = None  # the selection's picks where it reran candidates, else the search's best
        if self.selection is not None and self.selection.rerun:
            picks = {placement: chosen.pick
                     for placement, chosen in self.selection.selections.items()}
        objective = self.loaded.objective
        if objective.fraction and not objective.lower_is_better:  # falls of accuracy
            found += collapsed_neighbour_warnings(self.loaded.study.get_trials(deepcopy=False),
                                                  picks=picks, question=self.loaded.question)
        if self.source == "confirm":
            found.append(heavy_tail_warning(self.compared))
        found.append(near_tie_warning(self.selection))
        return tuple(sentence for sentence in found if sentence)


def search_top_trials(frame: pd.DataFrame, question: Question, *,
                      lower_is_better: bool = False) -> dict[object, pd.DataFrame]:
    """Pick the top-k COMPLETE trials of each value for the provisional verdict.

    Args:
        frame: A trials table from `analysis.reading.studies.trials_frame`.
        question: The reference and the value compared with it.
        lower_is_better: The study minimises: the top trials are the lowest.

    Returns:
        Value -> its top-k rows, best first (same k for both), the reference first.
    """
    param = question.param
    best = {p: complete_values(frame, p, param, lower_is_better=lower_is_better)
            for p in question.values}
    counts = {p: len(values) for p, values in best.items()}
    if min(counts.values()) < MIN_PER_PLACEMENT:
        shown = ", ".join(f"{p}: {n}" for p, n in counts.items())
        raise TooFewTrials(
            f"A verdict needs at least {MIN_PER_PLACEMENT} COMPLETE trials with a finite value "
            f"per `{param}`, but the study has {shown}."
        )
    k = max(MIN_PER_PLACEMENT, math.floor(TOP_FRACTION * min(counts.values())))
    return {p: frame.loc[best[p].index[:k]] for p in question.values}


def confirm_runs(confirm: pd.DataFrame | None, *, paired: bool = False,
                 question: Question) -> tuple[dict[object, pd.DataFrame] | None, str]:
    """Select the COMPLETE reruns per value, or explain why they cannot give the verdict.

    Args:
        confirm: The confirmation table of `LoadedStudies`, or None.
        paired: Keep only the seeds both values have, in seed order (row i of each value is
            then pair i).
        question: The reference and the value compared with it.

    Returns:
        (placement -> rows, "") when usable, else (None, the reason; "" if there is no study).
    """
    if confirm is None:
        return None, ""
    finished = confirm[(confirm["state"] == "COMPLETE") & confirm["value"].map(math.isfinite)]
    if finished.empty:  # a confirmation just started: its table may lack the parameter columns
        runs = {p: finished for p in question.values}
    else:
        runs = {p: finished[finished[question.param] == p] for p in question.values}
    if paired and not finished.empty:
        reference, other = question.values
        common = set(runs[reference]["seed"]) & set(runs[other]["seed"])
        runs = {p: rows[rows["seed"].isin(common)].sort_values("seed", kind="stable")
                for p, rows in runs.items()}
    if min(len(rows) for rows in runs.values()) < MIN_PER_PLACEMENT:
        shown = ", ".join(f"{p}: {len(rows)}" for p, rows in runs.items())
        return None, (
            f"The confirmation study exists but has too few COMPLETE reruns ({shown}; at least "
            f"{MIN_PER_PLACEMENT} per value needed), so the verdict comes from the search."
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
    loaded: LoadedStudies, margin: float | None = None, *,
    n_permutations: int = N_PERMUTATIONS, interval: str = DEFAULT_INTERVAL,
) -> Decision:
    """Draw the verdict from the reruns when usable, else provisionally from the search.

    Args:
        loaded: Output of `analysis.reading.studies.load_studies`.
        margin: Equivalence margin in the values' units (`loaded.objective`): a fraction of
            accuracy (None: DEFAULT_MARGIN), or for other values a difference in their units
            (required).
        n_permutations: Permutations of the provisional (search) test.
        interval: The reruns' interval, "anytime" or "welch" (`analysis.findings.verdict`).

    Returns:
        The decision.

    Raises:
        AnalysisError, ConfigError: for a margin its units refuse, or too few trials.
    """
    objective = loaded.objective
    margin = objective.check_margin(margin)
    paired, question = loaded.paired, loaded.question
    reference, other = question.values
    runs, note = confirm_runs(loaded.confirm, paired=paired, question=question)
    notes = (note,) if note else ()
    alpha = split_alpha(ALPHA, loaded.comparisons)  # Bonferroni over the question's comparisons
    if loaded.comparisons > 1:
        notes += (f"{question.param} has {loaded.comparisons + 1} values; each is compared "
                  f"with {question.reference!r} at a {100 * alpha:.3g}% error level, the "
                  f"{100 * ALPHA:g}% split over {loaded.comparisons} comparisons (Bonferroni).",)
    if runs is not None:
        if paired:
            complete = loaded.confirm[loaded.confirm["state"] == "COMPLETE"]
            lone = int(complete[question.param].isin(question.values).sum()) \
                - 2 * len(runs[reference])
            if lone:
                notes += (f"{lone} rerun(s) whose pair has not run yet are left out of the "
                          "paired comparison.",)
        comparison = compare_placements(
            runs[reference]["value"].to_numpy(float), runs[other]["value"].to_numpy(float),
            margin, interval=interval, paired=paired, alpha=alpha,
        )
        return Decision("confirm", _labelled(comparison, question), runs, notes)
    # raises if the search has too few trials
    top_trials = search_top_trials(loaded.trials, question,
                                   lower_is_better=objective.lower_is_better)
    pools = [complete_values(loaded.trials, p, question.param).to_numpy(float)
             for p in question.values]
    k = len(top_trials[reference])
    comparison = compare_top_trials(*pools, k, margin, n_permutations=n_permutations,
                                    level=1 - alpha, lower_is_better=objective.lower_is_better,
                                    fraction=objective.fraction)
    return Decision("search", _labelled(comparison, question), top_trials, notes)


def _labelled(comparison: Comparison, question: Question) -> Comparison:
    """`comparison` with the names of what its "before" and "after" stand for."""
    reference, other = question.values
    return dataclasses.replace(comparison, labels=(str(reference), str(other)))


def analyze(
    source: str | BaseStorage | optuna.Study,
    study_name: str | None = None,
    *,
    param: str | None = None,
    reference: object | None = None,
    margin: float | None = None,
    units: str | None = None,
    importance_seeds: Sequence[int] = (0, 1, 2, 3, 4),
    n_trees: int = 64,
    interval: str = DEFAULT_INTERVAL,
    compare: object | None = None,
) -> Analysis:
    """Does a categorical choice matter once the rest is tuned? The verdict and its evidence.

    Reads the study and writes nothing, into the study or anywhere else
    (`analysis.reports.writer.write_outputs` writes the report).

    Args:
        source: The search study (any single-objective `optuna.Study`), or a storage URL or
            object holding NAME (and maybe NAME/confirm); a URL rides on the analysis, for the
            commands the report suggests.
        study_name: Name of the search study; may be left out for a study object.
        param: The categorical parameter compared, for a study bnstudy did not write; None:
            the question bnstudy stored, or `bn_position` (`analysis.reading.questions`).
        reference: The value every other is compared with; None: the first of its choices.
        margin: Equivalence margin, the smallest difference that matters: a fraction of
            accuracy for bnstudy's studies and the default question (None: DEFAULT_MARGIN);
            for other values in their own units, and required.
        units: What the values are in, for the report: FRACTION reads them as fractions of
            accuracy (in pp); any other text names their units; None: fractions where
            `param` is not given, the objective's own units where it is.
        importance_seeds: Seeds over which importances are repeated.
        n_trees: Trees of the fANOVA forest.
        interval: The reruns' interval, "anytime" or "welch" (`analysis.findings.verdict`).
        compare: With a question of more than two values, the value compared with the
            reference (`analysis.reading.studies.compared_question`).

    Returns:
        The analysis.

    Raises:
        AnalysisError, ConfigError, StorageError: for a study, question, margin or units that
            cannot be used, naming the rule and the value.
    """
    loaded = load_studies(source, study_name, compare, param=param, reference=reference,
                          units=units)
    frame = loaded.trials
    lower = loaded.objective.lower_is_better
    # First: an unusable study fails before the slow fANOVA.
    decision = decide(loaded, margin, interval=interval)
    curves = placement_curves(frame, loaded.question, lower_is_better=lower)
    leaders = (leader_by_budget(curves, loaded.question, lower_is_better=lower)
               if len(curves) == 2 else None)
    # Only bnstudy's spaces have the width multiplier `alpha`; another study's "alpha" may be
    # continuous, one group per trial.
    group = GROUP_PARAM if loaded.written_by_bnstudy else None
    return Analysis(
        loaded=loaded,
        study_name=loaded.study.study_name,
        source=decision.source,
        comparison=decision.comparison,
        compared=decision.compared,
        source_notes=decision.notes,
        importance=param_importances(loaded.study, seeds=importance_seeds, n_trees=n_trees),
        isolation=isolation_table(frame, group, question=loaded.question, lower_is_better=lower),
        curves=tuple(curves),
        leaders=leaders,
        edges=tuple(edge_warnings(frame, loaded.distributions, lower_is_better=lower)),
        divergence=divergence(frame, loaded.question),
        axis_params=numeric_params(loaded),
        # A finished selection is shown before the confirmation has reruns too: the winner's
        # curse in numbers, and the near-ties, while the verdict is still provisional.
        selection=(selection_view(loaded, decision.compared)
                   if decision.source == "confirm" or loaded.select_study is not None
                   else None),
        storage_url=source if isinstance(source, str) else getattr(source, "url", None),
        dirty_reruns=dirty_reruns((loaded.select_study, loaded.confirm_study)),
    )
