"""Reruns taken through the storage, so that any number of workers share one rerun study.

A rerun study (`NAME/select`, `NAME/confirm`) holds one COMPLETE trial per rerun, each named
by a key: (value, seed) for the confirmation, (source trial, seed) for the selection. A worker
takes a rerun by queueing it as a WAITING trial that already holds the rerun's parameter and
attributes, and popping that trial: the storage turns a WAITING trial RUNNING for exactly one
caller (the row lock `optuna.Study.ask` pops its queue with). It pops the queued trials of its
key lowest number first, and queues its own only when there is none, so that it never passes
over an older claim of the key.

Two workers may still queue and pop one key at once. As the oracle's `_is_surplus` does for the
search's budget, the storage's numbers settle it: a popped trial whose key already has a
COMPLETE trial, or a RUNNING one with a lower number, is a duplicate, failed at once with a
`failure_reason` saying whose rerun it repeats. Every worker reaches that decision from the
storage alone, and only COMPLETE trials count as reruns (`RerunBoard.complete`: the first of
each key).

A taken rerun keeps a heartbeat (the storage's `heartbeat_interval`, as the search's trials).
A worker stopped mid-rerun (Ctrl-C, SIGTERM) puts its rerun back in the queue (`Claim.put_back`);
one that fails gives it up as FAIL with the error (`Claim.give_up`). A worker killed mid-rerun
leaves a RUNNING trial whose heartbeat goes stale:
`fail_stale_trials`, which every worker calls before it reads the board, fails it, and the
storage queues a WAITING copy with the same attributes (`study.storage.heartbeat`), the rerun
that the next worker to want that key pops.

Light module level: Optuna is imported inside the functions (`python -m study.confirm` imports
this before it can turn a Ctrl-C into one line).
"""

from __future__ import annotations

import os
import socket
import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

    from study.storage.heartbeat import Heartbeat

__all__ = ["Claim", "KeyOf", "RerunBoard", "claim_rerun", "drop_queued", "fail_stale",
           "read_board", "worker_name"]

KeyOf = Callable[["FrozenTrial"], Hashable | None]


def worker_name() -> str:
    """This process as a claim names it (user attribute `worker`): host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class RerunBoard:
    """What a rerun study holds now, by key.

    Attributes:
        complete: The first COMPLETE trial (lowest number) of each key: the reruns that count.
        running: The lowest-numbered RUNNING trial of each key that has no COMPLETE one:
            reruns other workers hold (or a killed worker's, until its heartbeat is stale).
        waiting: The WAITING trials of each key, lowest number first: queued, not taken.
    """

    complete: dict[Hashable, FrozenTrial]
    running: dict[Hashable, FrozenTrial]
    waiting: dict[Hashable, list[FrozenTrial]]

    def running_numbers(self) -> list[int]:
        """The numbers of the reruns held now, in order."""
        return sorted(trial.number for trial in self.running.values())


def read_board(trials: Iterable[FrozenTrial], key_of: KeyOf) -> RerunBoard:
    """The board of a rerun study's trials; trials without a key (`key_of` None) are left out.

    Args:
        trials: The study's trials, e.g. `study.get_trials(deepcopy=False)`.
        key_of: A trial's key, or None for a trial that is no rerun of this step.
    """
    from optuna.trial import TrialState

    complete: dict[Hashable, FrozenTrial] = {}
    running: dict[Hashable, FrozenTrial] = {}
    waiting: dict[Hashable, list[FrozenTrial]] = {}
    for trial in sorted(trials, key=lambda trial: trial.number):
        key = key_of(trial)
        if key is None:
            continue
        if trial.state == TrialState.COMPLETE:
            complete.setdefault(key, trial)
        elif trial.state == TrialState.RUNNING:
            running.setdefault(key, trial)
        elif trial.state == TrialState.WAITING:
            waiting.setdefault(key, []).append(trial)
    for key in complete:
        running.pop(key, None)
    return RerunBoard(complete, running, waiting)


def fail_stale(study: optuna.Study) -> None:
    """Fails the study's RUNNING trials whose heartbeat is stale (a killed worker's); the
    storage queues each again (`study.storage.heartbeat.stale_callback`)."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


class Claim:
    """A rerun this worker holds: a RUNNING trial with a heartbeat, to finish or give up.

    Attributes:
        trial: The running trial.
        board: The study's board read right after it was taken (itself among `running`).
    """

    def __init__(self, study: optuna.Study, trial: optuna.Trial, board: RerunBoard,
                 heartbeat: Heartbeat | None) -> None:
        self._study = study
        self.trial = trial
        self.board = board
        self._heartbeat = heartbeat

    @property
    def number(self) -> int:
        return self.trial.number

    def finish(self, value: float, user_attrs: Mapping[str, object]) -> bool:
        """Stores the rerun's measurements and completes it; False when it had been failed
        meanwhile (its heartbeat went stale: another worker reruns its key)."""
        from optuna.exceptions import UpdateFinishedTrialError

        self._stop()
        try:
            for key, attr in user_attrs.items():
                self.trial.set_user_attr(key, attr)
            self._study.tell(self.trial, value)
        except (UpdateFinishedTrialError, ValueError):  # "Cannot tell a FAIL trial."
            return False
        return True

    def give_up(self, reason: str) -> None:
        """Fails the rerun with `reason` (its `failure_reason`); its key is free again."""
        from optuna.exceptions import UpdateFinishedTrialError
        from optuna.trial import TrialState

        self._stop()
        try:
            self.trial.set_user_attr("failure_reason", reason)
            self._study.tell(self.trial, state=TrialState.FAIL)
        except (UpdateFinishedTrialError, ValueError):
            pass  # already failed as stale: nothing of it stands

    def put_back(self) -> None:
        """Queues the rerun again as it was (WAITING), for the next worker to take: its worker
        was stopped (Ctrl-C, SIGTERM) and it has no result. Put back rather than failed, the
        study keeps one trial per rerun, numbered as in a run never stopped."""
        from optuna.exceptions import UpdateFinishedTrialError
        from optuna.trial import TrialState

        from study import private_api

        self._stop()
        storage = private_api.study_storage(self._study)
        try:
            storage.set_trial_state_values(private_api.trial_storage_id(self.trial),
                                           state=TrialState.WAITING)
        except UpdateFinishedTrialError:
            pass  # already failed as stale, and queued again by the storage

    def _stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None


def drop_queued(study: optuna.Study, trials: Iterable[FrozenTrial], reason: str) -> None:
    """Fails queued (WAITING) trials no worker will take, each popped first so that only one
    worker fails it: a killed rerun queued again after its key was rerun elsewhere, or one
    queued past the step's end.

    Args:
        study: The rerun study.
        trials: WAITING trials of it (`RerunBoard.waiting`).
        reason: Their `failure_reason`.
    """
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    from study import private_api

    storage = private_api.study_storage(study)
    study_id = storage.get_study_id_from_name(study.study_name)
    for frozen in trials:
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, frozen.number)
        try:
            if not storage.set_trial_state_values(trial_id, state=TrialState.RUNNING):
                continue
        except UpdateFinishedTrialError:
            continue
        storage.set_trial_user_attr(trial_id, "failure_reason", reason)
        storage.set_trial_state_values(trial_id, state=TrialState.FAIL)


def claim_rerun(study: optuna.Study, key: Hashable, *, key_of: KeyOf,
                params: Mapping[str, object], distributions: Mapping[str, object],
                user_attrs: Mapping[str, object], describe: Callable[[Hashable], str]
                ) -> Claim | None:
    """Takes the rerun `key` for this worker, or None when another worker has it.

    The queued trials of `key` are read afresh and popped lowest number first; a new one is
    queued only when there is none. A worker therefore tries every claim of the key older than
    its own before its own, and the duplicate rule (see the module docstring) leaves exactly
    one of any claims popped at once: the storage numbers trials one at a time (Optuna locks
    the study's row to number a new trial), so a lower number was stored first.

    Args:
        study: The rerun study, in a storage opened by `open_storage` (heartbeats on).
        key: The rerun to take.
        key_of: A trial's key, as for the board.
        params, distributions, user_attrs: What a newly queued trial holds (the rerun's
            parameter, and the attributes that say what it retrains).
        describe: The key in words, for a duplicate's `failure_reason`.

    Returns:
        The claim, heartbeat started, or None: another worker popped the queued trials first,
        or its claim of the key came first (this one is then failed as a duplicate).
    """
    import optuna
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    from study import private_api
    from study.storage.heartbeat import Heartbeat, heartbeat_interval

    storage = private_api.study_storage(study)
    study_id = storage.get_study_id_from_name(study.study_name)
    interval = heartbeat_interval(study)

    def queued() -> list[int]:
        board = read_board(study.get_trials(deepcopy=False, states=(TrialState.WAITING,)),
                           key_of)
        return [storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
                for trial in board.waiting.get(key, [])]

    trial_ids = queued()
    if not trial_ids:
        storage.create_new_trial(study_id, template_trial=optuna.trial.create_trial(
            state=TrialState.WAITING, params=dict(params), distributions=dict(distributions),
            user_attrs=dict(user_attrs)))
        trial_ids = queued()  # with any queued meanwhile, lower numbers first
    for trial_id in trial_ids:
        if interval is not None:
            # Beat before the pop, so that the trial is never RUNNING without a heartbeat
            # (one that never beat would never be found stale).
            private_api.record_heartbeat(storage, trial_id)
        try:
            if storage.set_trial_state_values(trial_id, state=TrialState.RUNNING):
                break
        except UpdateFinishedTrialError:
            continue
    else:
        return None
    trial = optuna.trial.Trial(study, trial_id)
    after = read_board(study.get_trials(deepcopy=False), key_of)
    first = after.complete.get(key) or after.running.get(key)
    if first is not None and first.number != trial.number:
        trial.set_user_attr("failure_reason", f"duplicate: trial {first.number} already "
                                              f"reruns {describe(key)}")
        study.tell(trial, state=TrialState.FAIL)
        return None
    trial.set_user_attr("worker", worker_name())
    heartbeat = None if interval is None else Heartbeat(study, trial, interval).start()
    return Claim(study, trial, after, heartbeat)
