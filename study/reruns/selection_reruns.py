"""`study.select`'s reruns: each value's top search trials, reseeded, on validation only.

The candidates and the pick are `study.reruns.candidates`; here they are trained and stored.
Each rerun is one COMPLETE trial of the study `NAME/select` (`study.storage.reruns.store_rerun`,
validation accuracy as value); running again skips the (trial, seed) pairs already there, so an
interrupted selection continues where it stopped. The test split is never loaded into the
inputs (`prepare_run(..., held_out="val")`): only `study.confirm` scores on it.

`selection_picks` is what `study.confirm` reruns: the picks of a finished selection, or each
value's best search trial where no selection was run (studies from before it existed).
"""

from __future__ import annotations

import datetime
import sys
import time
from typing import TYPE_CHECKING, TextIO

from study.errors import ConfigError
from study.reruns.candidates import (
    Selection,
    pick_from_scores,
    scores_from_reruns,
    search_value,
    top_candidates,
)
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
    rerun_seeds,
    select_study_name,
    source_params,
    store_rerun,
)
from study.tuning.progress import format_params, time_left

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial

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
        ConfigError, DataError, StorageError: for wrong arguments or a storage that cannot be
            used, before anything is written to storage.
    """
    from study.config import config_from_record
    from study.storage.opener import (
        create_or_load_study,
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
    existing = load_study_if_any(storage, name)
    done = set() if existing is None else {
        (trial.user_attrs.get("source_trial"), trial.user_attrs.get("seed"))
        for trial in existing.get_trials(deepcopy=False) if trial.value is not None}
    seed_list = rerun_seeds(seeds, SELECT_SEED_BASE)
    # Seed by seed, so that an interrupted selection leaves every candidate with about as many.
    todo = [(seed, placement, trial) for seed in seed_list for placement in question.values
            for trial in candidates[placement] if (trial.number, seed) not in done]

    def say(line: str) -> None:
        print(line, file=stream, flush=True)

    total = seeds * sum(len(found) for found in candidates.values())
    say(f"Selecting in {study_name!r}: the top {top_k} search trials of each value of "
        f"{question.param}, rerun with {seeds} seeds each on the validation split (never the "
        "test split).")
    for placement, found in candidates.items():
        for trial in found:
            params = format_params(source_params(trial, question.param))
            say(f"  {question.label(placement)}: trial {trial.number} ({trial.state.name}), "
                f"val_accuracy {search_value(trial):.4f} ({params})")
    if todo and len(todo) < total:
        say(f"Resuming: {total - len(todo)} of {total} reruns already finished.")
    if todo:
        from study.engine.setup import library_versions, prepare_run
        from study.reruns.training import train_and_score

        setup = prepare_run(config, held_out="val")
        models = setup.models(reuse=reuse_compiled)
        select = create_or_load_study(storage, name, metric=SEARCH_METRIC)
        select.set_user_attr(CONFIG_ATTR, {
            "search_study": study_name, "top_k": top_k, "seeds": seeds,
            "seed_base": SELECT_SEED_BASE, "held_out": "val",
            "candidates": {str(p): [t.number for t in found]
                           for p, found in candidates.items()},
            "train_images": len(setup.splits.train_images),
            "val_images": len(setup.splits.val_images), "epochs": config.epochs,
            "versions": library_versions()})
        started_all = time.perf_counter()
        for index, (seed, placement, trial) in enumerate(todo, start=1):
            left = ""
            if index > 1:
                left = ", " + time_left(time.perf_counter() - started_all, index - 1,
                                        len(todo) - index + 1)
            say(f"Select {total - len(todo) + index} of {total}: {question.label(placement)} "
                f"trial {trial.number} seed={seed}{left}")
            started = datetime.datetime.now()  # Optuna stores local naive times
            result = train_and_score(models, dict(trial.params), setup.inputs, config,
                                     RerunSeeds(seed, seed, seed))
            store_rerun(select, trial, seed, result.accuracy, question=question,
                        loss=result.loss,
                        seconds=result.seconds, compiled_model=models.last_build,
                        dtype_policy=models.dtype_policy, started=started,
                        history=result.history, code_version=setup.code_version,
                        loss_name="val_loss",
                        extra={"search_value": search_value(trial),
                               "weights_digest": result.weights_digest})
            say(f"  -> val accuracy {result.accuracy:.4f} in {result.seconds:.1f} s")
    else:
        say(f"All {total} reruns already finished.")
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
