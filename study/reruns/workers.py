"""Reruns shared by any number of workers through the storage: the loop of `study.select` and
`study.confirm`, and who may join it.

Every worker of a step runs `share_reruns` against the step's one rerun study:

1. fail the claims of killed workers, whose heartbeat went stale (`claims.fail_stale`);
2. read the board (`claims.read_board`: what is COMPLETE, RUNNING, WAITING) and ask the step
   what comes next (`choose`): its stop rule and its order, on what is stored alone, so every
   worker stops once the stored reruns decide;
3. take that rerun (`claims.claim_rerun`), train it and store it; or, with nothing left to
   take while other workers still hold reruns, wait for them (a killed worker's comes back
   once its heartbeat is stale). A worker returns only when nothing is held, so each worker's
   command ends with the step finished and `study.run`'s next step reads all of it. Queued
   trials nobody will take (a killed rerun queued again after its key was rerun elsewhere, or
   past the step's end) are failed with a `failure_reason` (`claims.drop_queued`).

A worker stopped mid-rerun (Ctrl-C, SIGTERM) puts its rerun back in the queue and one whose
training fails gives it up (FAIL, with the error as `failure_reason`), so the rerun is free at
once; one killed (kill -9) leaves it to step 1.

Settings: the workers of one step must share its design (`settings`: seeds, stop rule, pairing,
allocation, candidates), or their reruns would answer different plans. A worker refuses to join
while reruns of another design are running (`check_joining`), and stops when another worker
started the step anew with other settings while none was running (`share_reruns`). Without
running reruns a step may be resumed with new settings (more seeds), as before.
"by-spread" allocation runs in one process only: its next rerun depends on every rerun before
it, which other workers would still be training (`alone`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING

from study.errors import ConfigError
from study.storage.claims import (
    Claim,
    KeyOf,
    RerunBoard,
    claim_rerun,
    drop_queued,
    fail_stale,
    read_board,
)
from study.storage.contract import CONFIG_ATTR

if TYPE_CHECKING:
    import optuna

    from study.engine.setup import RunSetup
    from study.reruns.trainer import RerunTrainer

__all__ = ["MAX_POLL_SECONDS", "check_joining", "read_study_board", "settings_conflict",
           "share_reruns"]

MAX_POLL_SECONDS = 5.0  # how often a worker with nothing to take looks again, at most

# (params, distributions, user attrs) of a queued rerun: `study.storage.reruns.rerun_fields`
Fields = tuple[Mapping[str, object], Mapping[str, object], Mapping[str, object]]


def read_study_board(study: optuna.Study, key_of: KeyOf) -> RerunBoard:
    """The board of the study now, after failing the claims of killed workers."""
    fail_stale(study)
    return read_board(study.get_trials(deepcopy=False), key_of)


def settings_conflict(stored: object, settings: Mapping[str, object]
                      ) -> tuple[str, object, object] | None:
    """The first setting the stored record holds otherwise: (name, stored, asked); None when
    they agree (a setting the record lacks, from an older run, agrees)."""
    if not isinstance(stored, Mapping):
        return None
    for name, value in settings.items():
        if name in stored and stored[name] != value:
            return name, stored[name], value
    return None


def check_joining(study: optuna.Study | None, key_of: KeyOf, settings: Mapping[str, object],
                  *, alone: str | None = None) -> RerunBoard | None:
    """Refuses to join a step whose running reruns follow another design, writing nothing.

    Args:
        study: The step's rerun study; None when it does not exist yet.
        key_of: A rerun's key (`study.storage.reruns.rerun_key`, `candidate_key`).
        settings: This worker's design of the step, as its record stores it.
        alone: Why this worker must run alone (one line), or None.

    Returns:
        The study's board (None without a study).

    Raises:
        ConfigError: when reruns are running in other workers and this worker must run alone,
            or the stored design differs from `settings`.
    """
    if study is None:
        return None
    board = read_study_board(study, key_of)
    running = board.running_numbers()
    if running:
        _check_running(study, running, settings, alone)
    return board


def share_reruns(study: optuna.Study, *, key_of: KeyOf, settings: Mapping[str, object],
                 choose: Callable[[RerunBoard], tuple[Hashable | None, str | None]],
                 fields: Callable[[Hashable], Fields],
                 rerun: Callable[[Hashable, Claim], tuple[float, Mapping[str, object]]],
                 trainer: RerunTrainer, record: Callable[[RunSetup], Mapping[str, object]],
                 describe: Callable[[Hashable], str], say: Callable[[str], None],
                 alone: str | None = None, poll_seconds: float | None = None) -> str | None:
    """Takes, trains and stores the step's reruns with the other workers until it is done.

    Args:
        study: The step's rerun study.
        key_of: A rerun's key.
        settings: This worker's design of the step (see `check_joining`).
        choose: From the board, the next rerun to take (None: nothing to take now) and the
            reason to take no more (the stop rule's), or None.
        fields: What a queued rerun of a key holds (`study.storage.reruns.rerun_fields`).
        rerun: Trains a taken rerun; returns its value and measured user attributes.
        trainer: What the reruns train with: its set-up is loaded before the first rerun this
            worker takes, not before (a worker joining a finished step never loads it).
        record: The step's record (the `config` user attribute) from the set-up: written
            before the first rerun where no other worker runs (theirs holds these settings,
            or this worker is refused).
        describe: A key in words, for messages and duplicates' `failure_reason`.
        say: Prints one progress line.
        alone: Why this worker must run alone, or None (see `check_joining`).
        poll_seconds: How often to look again while others hold the last reruns; None: the
            storage's heartbeat interval, at most MAX_POLL_SECONDS.

    Returns:
        The reason `choose` gave to take no more, or None when every rerun is done.

    Raises:
        ConfigError: when another worker changed the step's design, or (`alone`) runs too.
    """
    from study.storage.heartbeat import heartbeat_interval

    interval = heartbeat_interval(study)
    if poll_seconds is None and interval is not None:
        poll_seconds = min(float(interval), MAX_POLL_SECONDS)
    prepared, waited_for = False, None
    while True:
        board = read_study_board(study, key_of)
        for done, first in board.complete.items():  # a killed rerun queued again too late
            drop_queued(study, board.waiting.get(done, []),
                        f"duplicate: trial {first.number} already reruns {describe(done)}")
        key, reason = choose(board)
        if key is None:
            running = board.running_numbers()
            if not running or poll_seconds is None:
                leftover = [trial for queued_key, queued in board.waiting.items()
                            if queued_key not in board.complete for trial in queued]
                drop_queued(study, leftover, "not needed: the step ended (its stop rule "
                                             "decided, or every rerun was done) before it ran")
                return reason
            if running != waited_for:
                say(f"Waiting for {_trials(running)} (running in other workers; a killed "
                    "worker's rerun is taken again once its heartbeat is stale).")
                waited_for = running
            time.sleep(poll_seconds)
            continue
        if not prepared:
            setup = trainer.prepare()
            if not board.running:
                study.set_user_attr(CONFIG_ATTR, dict(record(setup)))
            prepared = True
        _check_settings(study, board, settings, alone)
        params, distributions, user_attrs = fields(key)
        claim = claim_rerun(study, key, key_of=key_of, params=params,
                            distributions=distributions, user_attrs=user_attrs,
                            describe=describe)
        if claim is None:
            continue  # another worker has it: read the board again
        waited_for = None
        if alone is not None:
            _check_alone(study, claim, alone)
        try:
            value, measured = rerun(key, claim)
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (`study.cli.run_command`)
            claim.put_back()
            raise
        except BaseException as error:
            claim.give_up(f"failed: {type(error).__name__}: {error}")
            raise
        if not claim.finish(value, measured):
            say(f"  trial {claim.number} had been taken for dead (no heartbeat for the "
                "storage's grace period) and is rerun elsewhere; its result is not stored.")


def _check_running(study: optuna.Study, running: list[int], settings: Mapping[str, object],
                   alone: str | None) -> None:
    if alone is not None:
        raise ConfigError(f"{alone}, but {_trials(running)} of {study.study_name!r} "
                          f"{'is' if len(running) == 1 else 'are'} running in another worker "
                          "(or in one killed less than the storage's grace period ago); wait "
                          "until it ends.")
    _check_record(study, settings, f"the workers running {_trials(running)} have")


def _check_settings(study: optuna.Study, board: RerunBoard, settings: Mapping[str, object],
                    alone: str | None) -> None:
    """Before each rerun taken: no other worker runs another design (or, `alone`, at all),
    and the record is still this worker's: none started the step anew meanwhile."""
    running = board.running_numbers()
    if running:
        _check_running(study, running, settings, alone)
    else:
        _check_record(study, settings, "another worker started it meanwhile with")


def _check_record(study: optuna.Study, settings: Mapping[str, object], whose: str) -> None:
    conflict = settings_conflict(study.user_attrs.get(CONFIG_ATTR), settings)
    if conflict is not None:
        name, stored, asked = conflict
        raise ConfigError(f"`{name}` must be the same for every worker of {study.study_name!r}, "
                          f"but {whose} {name}={stored!r} and this one asks for {asked!r}; "
                          "start every worker of one step with the same settings, or wait "
                          "until they finish.")


def _check_alone(study: optuna.Study, claim: Claim, alone: str) -> None:
    """Two workers that must run alone and started at once: the lower claim goes on."""
    earlier = [n for n in claim.board.running_numbers() if n < claim.number]
    if earlier:
        claim.give_up(f"refused: {alone}, and trial {earlier[0]} ran in another worker")
        _check_running(study, earlier, {}, alone)


def _trials(numbers: list[int]) -> str:
    return (f"trial {numbers[0]}" if len(numbers) == 1
            else f"trials {', '.join(map(str, numbers))}")
