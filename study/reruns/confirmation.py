"""Reruns of each placement's pick with fresh seeds, scored once on the test split.

A search ranks trials by one seed's validation accuracy, so the winners' values are optimistic
and say nothing about seed-to-seed spread. Retraining the pick of each placement (the
selection's, `study.reruns.selection_reruns`) with K new seeds and scoring each once on the
held-out test split gives the samples the verdict in `analysis` is built for (Deep Learning
Tuning Playbook: rerun the best trials to see trial variance).

Paired by default: rerun k of both placements uses the same seeds, one per source of variation
(`rerun_seeds_for`), so both start from the same initial weights where the two configurations'
weights have the same shapes (the same width) and see the same batches in the same order; what
the two share then cancels in their difference. The verdict is then the sequence of the pairs'
differences (`study.reruns.stopping`). Each rerun stores its seeds and a digest of its initial
weights, so the report can say how many pairs really started alike.

The reruns go to the study `NAME/confirm` in the same storage, one COMPLETE trial per
(placement, seed) (`study.storage.reruns`); running again skips the reruns already there. Any
number of workers may run it on one storage (`study.reruns.workers`): they take the reruns in
the seed-major order, each once, and all stop where one process would have stopped.
`python -m study.confirm` is the command.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING, TextIO

from study.errors import ConfigError
from study.reruns.allocation import next_rerun
from study.reruns.selection_reruns import selection_picks
from study.reruns.stopping import LooksInOrder, StopRule
from study.reruns.trainer import RerunTrainer
from study.reruns.workers import check_joining, share_reruns
from study.stats.decision import MIN_RERUNS_TO_DECIDE
from study.storage.contract import CONFIG_ATTR, CONFIRM_METRIC
from study.storage.question import QUESTION_ATTR, stored_question
from study.storage.reruns import (
    CONFIRM_SEED_BASE,
    RerunSeeds,
    confirm_study_name,
    rerun_fields,
    rerun_key,
    rerun_seeds,
    reruns_by_value,
    source_params,
)
from study.tuning.progress import format_duration, format_params, time_left

if TYPE_CHECKING:
    import optuna

    from study.engine.setup import RunSetup
    from study.storage.claims import Claim, RerunBoard


# Light module level (standard library and light study modules only): `python -m study.confirm`
# imports this file before `run_command` can turn a Ctrl-C into one line, so Optuna, the storage
# and Keras are imported inside the functions (tests/test_interrupts.py checks it).

__all__ = ["PAIRINGS", "VARIED", "rerun_seeds_for", "run_confirmation"]

PAIRINGS = ("paired", "unpaired")
# What the seed of rerun k varies: "both" the initial weights and the data order; "weights"
# alone (every rerun sees the data in one order) or "data" alone (every rerun starts from one
# set of weights), to measure one source of variation at a time (Bouthillier et al. 2021).
VARIED = ("both", "weights", "data")


def rerun_seeds_for(seed: int, vary: str = "both") -> RerunSeeds:
    """The seeds of rerun number `seed`: each varied source gets it, a fixed one the base.

    Raises:
        ConfigError: for `vary` outside VARIED.
    """
    if vary not in VARIED:
        raise ConfigError(f"`vary` must be one of {list(VARIED)}, but got {vary!r}.")
    return RerunSeeds(seed, weights=seed if vary in ("both", "weights") else CONFIRM_SEED_BASE,
                      data=seed if vary in ("both", "data") else CONFIRM_SEED_BASE)


def run_confirmation(storage_url: str, study_name: str, seeds: int, *,
                     stream: TextIO | None = None, reuse_compiled: bool = True,
                     allocation: str = "equal", stop_at_half_width: float | None = None,
                     rule: StopRule | None = None, pairing: str = "paired",
                     vary: str = "both") -> optuna.Study:
    """Reruns each placement's pick with up to `seeds` seeds, storing test accuracy.

    The picks are those of the selection study (`study.select`) where one was run, else each
    placement's best search trial (`study.reruns.selection_reruns.selection_picks`).

    Everything is rebuilt from the search study's stored configuration: data, splits, epochs,
    batch and image size, search space. Pairs (placement, seed) already COMPLETE in the
    confirmation study are skipped, so an interrupted run continues where it stopped. Any
    number of processes may run this on one storage at once (`study.reruns.workers`): each
    rerun is taken by one of them, and each returns once the confirmation is done.

    Args:
        storage_url: The search's Optuna storage; a SQLite file must exist.
        study_name: The search study; reruns go to `confirm_study_name(study_name)`.
        seeds: Reruns per placement at most, seeded `rerun_seeds(seeds)`.
        stream: Where progress lines go; None is stdout.
        reuse_compiled: Reruns of one configuration reuse its compiled model, re-initialised
            with each seed (`study.tuning.compiled_models`); off builds and compiles every rerun.
        allocation: Which placement reruns next (`study.reruns.allocation`): "equal" gives each
            placement every seed in turn; "by-spread" gives reruns to the noisier placement
            first, in proportion to the stds, until each has had every seed (one process only).
        stop_at_half_width: Stop once the 95% interval of after - before (Welch) is at most
            this wide on each side (a fraction of accuracy, e.g. 0.005): the same as
            `rule=StopRule("half-width", half_width=...)`.
        rule: When to stop before every seed has run (`study.reruns.stopping`); None runs
            every seed, or stops at `stop_at_half_width`.
        pairing: "paired": rerun k of both placements shares its seeds (the same initial
            weights where the shapes match, the same data order), the allocation must be
            "equal" and a "decided" rule decides on the pairs' differences; "unpaired" reruns
            the placements independently.
        vary: What the seeds vary (VARIED): "both", "weights" or "data".

    Returns:
        The confirmation study (maximize test accuracy) with every rerun so far.

    Raises:
        ConfigError, DataError, StorageError: for wrong arguments, a storage that cannot be
            used (see `open_storage`), or other workers running this confirmation with other
            settings (`study.reruns.workers.check_joining`), before anything is written.
    """
    from study.config import config_from_record
    from study.storage.opener import (
        create_or_load_study,
        load_study,
        load_study_if_any,
        open_storage,
    )
    from study.storage.records import confirmation_record, stored_record

    stream = stream or sys.stdout
    if rule is not None and stop_at_half_width is not None:
        raise ConfigError(f"`stop_at_half_width` must not be given with a stop rule, but got "
                          f"{stop_at_half_width} and {rule.stop!r}.")
    if rule is None:
        rule = (StopRule() if stop_at_half_width is None
                else StopRule("half-width", half_width=stop_at_half_width))
    if pairing not in PAIRINGS:
        raise ConfigError(f"`pairing` must be one of {list(PAIRINGS)}, but got {pairing!r}.")
    paired = pairing == "paired"
    if paired and allocation != "equal":
        raise ConfigError(f"`allocation` must be 'equal' for paired reruns (each seed reruns "
                          f"both placements), but got {allocation!r}; use --pairing unpaired "
                          "with --allocation by-spread.")
    rerun_seeds_for(CONFIRM_SEED_BASE, vary)  # checks `vary` before anything is loaded
    rule = dataclasses.replace(rule, paired=paired)
    seed_list = rerun_seeds(seeds)
    storage = open_storage(storage_url, create=False)
    study = load_study(storage, study_name)
    config = config_from_record(stored_record(study), storage=storage_url,
                                study_name=study_name)
    question = stored_question(study)
    best, how_picked = selection_picks(storage, study)
    name = confirm_study_name(study_name)
    existing = load_study_if_any(storage, name)
    if existing is not None:
        _check_same_design(existing, pairing, vary)
    key_of = rerun_key(question.param)
    settings = {"max_reruns": seeds, "allocation": allocation, "pairing": pairing,
                "vary": vary, **rule.record()}
    alone = (None if allocation == "equal" else f"`allocation` {allocation!r} must run in one "
             "process only (its next rerun depends on every rerun before it)")
    board = check_joining(existing, key_of, settings, alone=alone)
    looks = LooksInOrder(rule, question.values, seed_list) if allocation == "equal" else None

    def stored(board: RerunBoard | None) -> dict[object, dict[int, float]]:
        return reruns_by_value([] if board is None else board.complete.values(), best,
                               storage_url=storage_url, question=question, study_name=name)

    def reason_to_stop(done: dict[object, dict[int, float]]) -> str | None:
        return (rule if looks is None else looks).reason_to_stop(done)

    done = stored(board)
    running = [] if board is None else board.running_numbers()
    planned = len(seed_list) * len(question.values)
    finished = sum(seed in done[value] for value in question.values for seed in seed_list)
    early = allocation != "equal" or rule.stop != "all"
    of_planned = f"{'at most ' if early else ''}{planned}"

    def say(line: str) -> None:
        print(line, file=stream, flush=True)

    say(f"Confirming {study_name!r}: the pick of each value of {question.param}, rerun "
        f"{pairing} with "
        f"{'up to ' if early else ''}{seeds} seed{'s' if seeds > 1 else ''} "
        f"and tested once{', more reruns to the noisier' if allocation != 'equal' else ''}"
        f"{', until the verdict is decided' if rule.stop == 'decided' else ''}.")
    say(f"  {how_picked}")
    for placement, trial in best.items():
        params = format_params(source_params(trial, question.param))
        say(f"  {question.label(placement)}: trial {trial.number}, val_accuracy "
            f"{trial.value:.4f} ({params})")
    if next_rerun(done, seed_list, allocation) is None:
        say(f"All {planned} reruns already finished.")
        return load_study(storage, name)
    reason = reason_to_stop(done)
    if reason is not None and not running:
        say(reason)
        return load_study(storage, name)
    if running:
        say(f"Joining the workers of {name!r}: {finished} of {of_planned} reruns finished, "
            f"{len(running)} running.")
    elif finished:
        say(f"Resuming: {finished} of {of_planned} reruns already finished.")

    confirm = create_or_load_study(storage, name, metric=CONFIRM_METRIC)
    run = RerunTrainer(config, held_out="test", reuse_compiled=reuse_compiled)

    def record(setup: RunSetup) -> dict[str, object]:
        from study.engine.setup import library_versions

        return confirmation_record(
            confirm.user_attrs.get(CONFIG_ATTR), search_study=study_name,
            seed_base=CONFIRM_SEED_BASE, seeds=seed_list,
            source_trials={str(value): trial.number for value, trial in best.items()},
            train_images=len(setup.splits.train_images),
            test_images=len(setup.splits.test_images), epochs=config.epochs,
            allocation=allocation, stop=rule.record(), versions=library_versions()) \
            | settings | {"picked_by": how_picked, QUESTION_ATTR: question.record()}

    def choose(board: RerunBoard) -> tuple[tuple[object, int] | None, str | None]:
        done = stored(board)
        reason = reason_to_stop(done)
        if reason is not None:
            return None, reason
        taken: dict[object, set[int]] = {value: set() for value in question.values}
        for value, seed in board.running:
            taken.get(value, set()).add(seed)
        return next_rerun(done, seed_list, allocation, taken=taken), None

    def rerun(key: tuple[object, int], claim: Claim) -> tuple[float, dict[str, object]]:
        placement, seed = key
        source = best[placement]
        # This rerun's place among the planned ones: those stored and those being run.
        position = sum(s in seed_list and v in question.values
                       for v, s in (*claim.board.complete, *claim.board.running))
        left = ""
        if run.trained:
            workers = len(claim.board.running)
            left = "; " + _time_left(
                run.elapsed(), run.trained, run.share(planned - position + 1, workers), early,
                rule.stop == "decided",
                run.share(MIN_RERUNS_TO_DECIDE * len(question.values) - position + 1, workers))
        say(f"Rerun {position} of {of_planned}: "
            f"{question.label(placement)} seed={seed} (trial {source.number}){left}")
        result = run.train(dict(source.params), rerun_seeds_for(seed, vary))
        say(f"  -> test accuracy {result.accuracy:.4f} in {result.seconds:.1f} s")
        return result.accuracy, run.measured(result, "test_loss")

    reason = share_reruns(
        confirm, key_of=key_of, settings=settings, choose=choose,
        fields=lambda key: rerun_fields(best[key[0]], rerun_seeds_for(key[1], vary),
                                        question=question, code_version=run.code_version),
        rerun=rerun, trainer=run, record=record, alone=alone, say=say,
        describe=lambda key: f"{question.label(key[0])} seed={key[1]}")
    if reason is not None:
        say(reason)
    elif rule.stop == "decided":
        say(f"Each placement has had its {seeds} reruns and the verdict is still undecided; "
            f"`python -m analysis` says how many more the spreads suggest.")
    return confirm


def _time_left(elapsed: float, done: int, remaining: int, early: bool, decided: bool,
               to_first_decision: int) -> str:
    """The time left to the last planned rerun ("at most" when the run may stop earlier) and,
    under `--stop decided`, to the first rerun after which it can decide."""
    text = time_left(elapsed, done, remaining) + (" at most" if early else "")
    if decided and 0 < to_first_decision < remaining:
        text += (f", about {format_duration(elapsed / done * to_first_decision)} until it can "
                 f"first decide ({MIN_RERUNS_TO_DECIDE} each)")
    return text


def _check_same_design(confirm: optuna.Study, pairing: str, vary: str) -> None:
    """Refuses to add reruns of another design to a confirmation study.

    Studies from before pairing existed ran unpaired, varying both sources; a study without
    any record was not made by `run_confirmation`, which writes it before the first rerun.
    """
    record = confirm.user_attrs.get(CONFIG_ATTR)
    if not isinstance(record, dict):
        return
    stored = {"pairing": record.get("pairing", "unpaired"), "vary": record.get("vary", "both")}
    for key, value in (("pairing", pairing), ("vary", vary)):
        if stored[key] != value:
            raise ConfigError(
                f"`{key}` must match the confirmation being resumed, but "
                f"{confirm.study_name!r} ran with {key}={stored[key]!r} and this run asks for "
                f"{value!r}; mixing the two would make its interval meaningless.")
