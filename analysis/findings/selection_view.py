"""How each value's rerun configuration was chosen, and how sure that choice is.

With a selection study (`python -m study.select`), each placement's candidates are shown with
their search validation accuracy beside the mean +- std of their reseeded validation reruns:
the winner's curse in numbers (a search value above its own reruns' mean is partly luck). The
pick is the best mean; near-ties are the candidates within one pooled seed std of it
(`study.reruns.candidates`).

Without one (studies from before `study.select`), the confirmation reran each placement's best
single search trial; the same top candidates are shown by their search value alone, and those
within one seed std of the pick's search value (the std of the pick's own confirmation reruns)
are named near-ties: the pick is then not clearly the better configuration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from analysis.reading.studies import LoadedStudies
from study.reruns.candidates import (
    CandidateScore,
    Selection,
    search_near_ties,
    search_value,
    top_candidates,
)
from study.reruns.selection_reruns import selections
from study.storage.contract import CONFIG_ATTR, DEFAULT_TOP_K

__all__ = ["SelectionView", "near_tie_warning", "selection_frame", "selection_intro",
           "selection_view"]


@dataclass(frozen=True)
class SelectionView:
    """Per value compared, the candidates and the pick; `rerun` says whether candidates were
    rerun; `param` is the scientific parameter."""

    rerun: bool
    selections: dict[object, Selection]
    top_k: int
    param: str


def _search_only(loaded: LoadedStudies, compared: dict[str, pd.DataFrame]
                 ) -> SelectionView | None:
    """The view of a study without a selection: its confirmation's picks among the top k."""
    if "source_trial" not in next(iter(compared.values())).columns:
        return None  # a provisional verdict from the search: no pick was rerun
    trials = loaded.study.get_trials(deepcopy=False)
    candidates = top_candidates(trials, DEFAULT_TOP_K, loaded.question)
    by_number = {trial.number: trial for trial in trials}
    found: dict[object, Selection] = {}
    for placement in loaded.question.values:
        rows = compared[placement]
        sources = rows["source_trial"].dropna().unique()
        if len(sources) != 1 or int(sources[0]) not in by_number:
            return None
        pick = by_number[int(sources[0])]
        spread = float(rows["value"].std(ddof=1)) if len(rows) > 1 else math.nan
        listed = list(candidates[placement])
        if pick.number not in {trial.number for trial in listed}:
            listed.insert(0, pick)
        ties = tuple(trial.number for trial in search_near_ties(listed, pick, spread))
        scores = tuple(CandidateScore(trial.number, placement, search_value(trial),
                                      trial.state.name, ()) for trial in listed)
        found[placement] = Selection(placement, scores, pick.number, spread, ties)
    return SelectionView(rerun=False, selections=found, top_k=DEFAULT_TOP_K,
                         param=loaded.param)


def selection_view(loaded: LoadedStudies, compared: dict[str, pd.DataFrame]
                   ) -> SelectionView | None:
    """The selection's view where a selection was run, else the confirmation's picks among the
    search's top candidates; None for a verdict from the search alone."""
    if loaded.select_study is not None:
        record = loaded.select_study.user_attrs.get(CONFIG_ATTR) or {}
        top_k = int(record.get("top_k", DEFAULT_TOP_K))
        found = selections(loaded.study, loaded.select_study, top_k)
        if found is not None:
            return SelectionView(rerun=True, top_k=top_k, param=loaded.param,
                                 selections={value: found[value]
                                             for value in loaded.question.values})
    return _search_only(loaded, compared)


def near_tie_warning(view: SelectionView | None) -> str | None:
    """A sentence naming each pick's near-ties, or None."""
    if view is None:
        return None
    parts = [f"for {view.param}={placement}, trial{'s' if len(s.near_ties) > 1 else ''} "
             f"{', '.join(map(str, s.near_ties))} within one seed std "
             f"({100 * s.pooled_std:.2f} pp) of the pick, trial {s.pick}"
             for placement, s in view.selections.items() if s.near_ties]
    if not parts:
        return None
    basis = ("by the mean of their selection reruns" if view.rerun
             else "by a single search run each, against the pick's rerun spread")
    return (f"Near-ties, {basis}: {'; '.join(parts)}. The pick is not clearly the better "
            "configuration; the verdict is about the pick.")


def selection_intro(view: SelectionView) -> str:
    """The sentences above the candidates' table: how the picks were made."""
    if view.rerun:
        return (f"Each placement's top {view.top_k} search trials were retrained with new seeds "
                "on the validation split (`python -m study.select`); the pick is the best "
                "mean. A search value above its reruns' mean is the winner's curse.")
    return ("No selection was run: the confirmation reran each placement's best single search "
            f"trial. The top {view.top_k} candidates by search value, with the pick's "
            "confirmation spread as the yardstick for near-ties.")


def selection_frame(view: SelectionView) -> pd.DataFrame:
    """One row per candidate: search value, reruns' mean +- std and n, pick or near-tie."""
    rows = []
    for placement, selection in view.selections.items():
        for score in selection.candidates:
            rows.append({
                view.param: placement, "trial": score.trial, "state": score.state,
                "search val acc": f"{score.search_value:.4f}",
                "reruns (mean ± std, n)": (f"{score.mean:.4f} ± {score.std:.4f}, "
                                           f"{len(score.values)}" if score.values else "-"),
                "role": ("pick" if score.trial == selection.pick else
                         "near-tie" if score.trial in selection.near_ties else ""),
            })
    return pd.DataFrame(rows)
