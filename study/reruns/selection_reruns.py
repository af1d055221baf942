"""`study.select`'s reruns: each value's top search trials, reseeded, on validation only.

The candidates and the pick are `study.reruns.candidates`; here they are trained and stored.
Each rerun is one COMPLETE trial of the study `NAME/select` (`study.storage.reruns.rerun_fields`,
validation accuracy as value); running again skips the (trial, seed) pairs already there, so an
interrupted selection continues where it stopped, and any number of workers share one selection
through the storage (`study.reruns.workers`), each (trial, seed) taken by one of them. The test
split is never loaded into the inputs (`prepare_run(..., held_out="val")`): only `study.confirm`
scores on it.

`selection_picks` is what `study.confirm` reruns: the picks of a finished selection, or each
value's best search trial where no selection was run (studies from before it existed).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from study.errors import ConfigError
from study.reruns.candidates import (
    Selection,
    pick_from_scores,
    scores_from_reruns,
    search_value,
    top_candidates,
)
from study.reruns.trainer import RerunTrainer
from study.reruns.workers import check_joining, share_reruns
from study.storage.contract import (
    CONFIG_ATTR,
    DEFAULT_SELECT_SEEDS,
    DEFAULT_TOP_K,
    SEARCH_METRIC,
)
from study.storage.question import stored_question
from study.storage.reruns import (
    SELECT_SEED_BASE,
    RerunSeeds,
    candidate_key,
    rerun_fields,
    rerun_seeds,
    select_study_name,
    source_params,
)
from study.tuning.progress import format_params, time_left

if TYPE_CHECKING:
    from collections.abc import Callable

    import optuna
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial

    from study.config import SearchConfig
    from study.engine.setup import RunSetup
    from study.storage.claims import Claim, RerunBoard
    from study.storage.question import Question

__all__ = ["MAX_SELECT_SEEDS", "check_selection", "run_selection", "selection_picks", "selections"]

# Selection seeds run from SELECT_SEED_BASE up to below the confirmation's seeds.
MAX_SELECT_SEEDS = 400


def check_selection(top_k: int, seeds: int) -> None:
    """Refuses candidate or seed counts `run_selection` cannot run (before any work).

    Raises:
        ConfigError: for `top_k` outside 1-100 or `seeds` outside 2-MAX_SELECT_SEEDS.
    """
    if not 1 <= top_k <= 100:
        raise ConfigError(f"`top_k` must be between 1 and 100 candidates per value, but "
                          f"got {top_k}.")
    if not 2 <= seeds <= MAX_SELECT_SEEDS:
        raise ConfigError(f"`seeds` must be between 2 (a mean and a spread) and "
                          f"{MAX_SELECT_SEEDS} per candidate, but got {seeds}.")


def selections(search: optuna.Study, select: optuna.Study, top_k: int
               ) -> dict[object, Selection] | None:
    """Per value of the study's question, the candidates' scores, pick and near-ties; None
    while a candidate has no rerun yet."""
    candidates = top_candidates(search.get_trials(deepcopy=False), top_k,
                                stored_question(search))
    scores = scores_from_reruns(candidates, select.get_trials(deepcopy=False))
    if any(not score.values for found in scores.values() for score in found):
        return None
    return {placement: pick_from_scores(found) for placement, found in scores.items()}


def selection_picks(storage: BaseStorage, search: optuna.Study
                    ) -> tuple[dict[object, FrozenTrial], str]:
    """The trial each value's confirmation reruns (the question's order), and a line saying how
    it was chosen.

    Raises:
        ConfigError: when a selection study exists but has not finished (every candidate
            with every seed), or a placement has no COMPLETE trial without one.
    """
    from study.storage.opener import has_study, load_study
    from study.storage.reruns import best_trials

    question = stored_question(search)
    name = select_study_name(search.study_name)
    if not has_study(storage, name):
        return best_trials(search, question), (
            "No selection study: each value's best single search trial is rerun (`python "
            "-m study.select` first picks by the mean of reseeded validation reruns).")
    select = load_study(storage, name)
    record = select.user_attrs.get(CONFIG_ATTR, {})
    top_k, seeds = int(record.get("top_k", DEFAULT_TOP_K)), int(record.get("seeds", 0))
    candidates = top_candidates(search.get_trials(deepcopy=False), top_k, question)
    scores = scores_from_reruns(candidates, select.get_trials(deepcopy=False))
    short = sorted(score.trial for found in scores.values() for score in found
                   if len(score.values) < seeds)
    if short:
        raise ConfigError(
            f"the selection {name!r} must be finished before confirming, but trials {short} "
            f"have fewer than {seeds} reruns; run `python -m study.select --study-name "
            f"{search.study_name}` again to finish it.")
    trials = {trial.number: trial for trial in search.get_trials(deepcopy=False)}
    picks = {placement: trials[pick_from_scores(found).pick]
             for placement, found in scores.items()}
    return picks, (f"Picks of the selection {name!r}: the best mean of {seeds} validation "
                   f"reruns among each value's top {top_k}.")


def run_selection(storage_url: str, study_name: str, *, top_k: int = DEFAULT_TOP_K,
                  seeds: int = DEFAULT_SELECT_SEEDS, stream: TextIO | None = None,
                  reuse_compiled: bool = True) -> optuna.Study:
    """Reruns each placement's top `top_k` search trials with `seeds` new seeds, on validation.

    Any number of processes may run this on one storage at once (`study.reruns.workers`):
    each (candidate, seed) is rerun by one of them, and each returns once all are done.

    Args:
        storage_url: The search's Optuna storage; a SQLite file must exist.
        study_name: The search study; reruns go to `select_study_name(study_name)`.
        top_k: Candidates per placement (`study.reruns.candidates.top_candidates`).
        seeds: Reruns per candidate, seeded `rerun_seeds(seeds, SELECT_SEED_BASE)`.
        stream: Where progress lines go; None is stdout.
        reuse_compiled: Reruns of one architecture reuse its compiled model, re-initialised.

    Returns:
        The selection study (maximize validation accuracy) with every rerun so far.

    Raises:
        ConfigError, DataError, StorageError: for wrong arguments, a storage that cannot be
            used, or other workers running this selection with another `top_k` or `seeds`,
            before anything is written to storage.
    """
    from study.config import config_from_record
    from study.storage.opener import (
        load_study,
        load_study_if_any,
        open_storage,
    )
    from study.storage.records import stored_record

    check_selection(top_k, seeds)
    stream = stream or sys.stdout
    storage = open_storage(storage_url, create=False)
    search = load_study(storage, study_name)
    config = config_from_record(stored_record(search), storage=storage_url,
                                study_name=study_name)
    question = stored_question(search)
    candidates = top_candidates(search.get_trials(deepcopy=False), top_k, question)
    name = select_study_name(study_name)
    settings = {"top_k": top_k, "seeds": seeds}
    board = check_joining(load_study_if_any(storage, name), candidate_key, settings)
    seed_list = rerun_seeds(seeds, SELECT_SEED_BASE)
    # Seed by seed, so that an interrupted selection leaves every candidate with about as many.
    order = [(trial.number, seed) for seed in seed_list for placement in question.values
             for trial in candidates[placement]]
    total = len(order)

    def say(line: str) -> None:
        print(line, file=stream, flush=True)

    say(f"Selecting in {study_name!r}: the top {top_k} search trials of each value of "
        f"{question.param}, rerun with {seeds} seeds each on the validation split (never the "
        "test split).")
    for placement, found in candidates.items():
        for trial in found:
            params = format_params(source_params(trial, question.param))
            say(f"  {question.label(placement)}: trial {trial.number} ({trial.state.name}), "
                f"val_accuracy {search_value(trial):.4f} ({params})")
    finished = 0 if board is None else sum(key in board.complete for key in order)
    running = [] if board is None else board.running_numbers()
    if finished == total:
        say(f"All {total} reruns already finished.")
    else:
        if running:
            say(f"Joining the workers of {name!r}: {finished} of {total} reruns finished, "
                f"{len(running)} running.")
        elif finished:
            say(f"Resuming: {finished} of {total} reruns already finished.")
        _share(storage, name, config, question, candidates, order, settings, reuse_compiled,
               say)
    select = load_study(storage, name)
    found = selections(search, select, top_k)
    if found is not None:
        for placement, selection in found.items():
            pick = selection.candidate(selection.pick)
            ties = (f"; near-ties (within one seed std, {100 * selection.pooled_std:.2f} pp): "
                    f"trials {', '.join(map(str, selection.near_ties))}"
                    if selection.near_ties else "")
            say(f"Pick for {question.label(placement)}: trial {pick.trial}, mean val "
                f"accuracy {pick.mean:.4f} over {len(pick.values)} seeds{ties}")
    return select


def _share(storage: BaseStorage, name: str, config: SearchConfig, question: Question,
           candidates: dict[object, list[FrozenTrial]], order: list[tuple[int, int]],
           settings: dict[str, object], reuse_compiled: bool,
           say: Callable[[str], None]) -> None:
    """Takes and trains the selection's reruns, in `order`, with the other workers."""
    from study.engine.setup import library_versions
    from study.storage.opener import create_or_load_study

    by_number = {trial.number: trial for found in candidates.values() for trial in found}
    select = create_or_load_study(storage, name, metric=SEARCH_METRIC)
    run = RerunTrainer(config, held_out="val", reuse_compiled=reuse_compiled)

    def record(setup: RunSetup) -> dict[str, object]:
        return {"search_study": config.resolved_study_name, **settings,
                "seed_base": SELECT_SEED_BASE, "held_out": "val",
                "candidates": {str(p): [t.number for t in found]
                               for p, found in candidates.items()},
                "train_images": len(setup.splits.train_images),
                "val_images": len(setup.splits.val_images), "epochs": config.epochs,
                "versions": library_versions()}

    def choose(board: RerunBoard) -> tuple[tuple[int, int] | None, None]:
        free = (key for key in order if key not in board.complete and key not in board.running)
        return next(free, None), None

    def rerun(key: tuple[int, int], claim: Claim) -> tuple[float, dict[str, object]]:
        number, seed = key
        trial = by_number[number]
        position = sum(key in claim.board.complete or key in claim.board.running
                       for key in order)
        left = ""
        if run.trained:
            left = ", " + time_left(run.elapsed(), run.trained, run.share(
                len(order) - position + 1, len(claim.board.running)))
        say(f"Select {position} of {len(order)}: "
            f"{question.label(trial.params[question.param])} trial {number} seed={seed}{left}")
        result = run.train(dict(trial.params), RerunSeeds(seed, seed, seed))
        say(f"  -> val accuracy {result.accuracy:.4f} in {result.seconds:.1f} s")
        return result.accuracy, run.measured(result, "val_loss")

    share_reruns(select, key_of=candidate_key, settings=settings, choose=choose,
                 fields=lambda key: rerun_fields(
                     by_number[key[0]], key[1], question=question, code_version=run.code_version,
                     extra={"search_value": search_value(by_number[key[0]])}),
                 rerun=rerun, trainer=run, record=record, say=say,
                 describe=lambda key: f"trial {key[0]} seed={key[1]}")
