"""A trial's heartbeat, so that a killed worker's trial is found stale, failed and retried."""

from __future__ import annotations

import threading
import warnings

import optuna
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from study import private_api

__all__ = ["MAX_RETRIES", "Heartbeat", "heartbeat_interval", "retried_trial", "retry_later",
           "stale_callback"]

MAX_RETRIES = 3  # a trial that kills its worker three times is not retried again


def stale_callback() -> RetryHeartbeatStaleTrialCallback:
    """What the storage does with a stale trial: queue its parameters again."""
    return RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRIES)


def heartbeat_interval(study: optuna.Study) -> float | None:
    """Seconds between heartbeats the study's storage expects, or None when it keeps none."""
    return private_api.heartbeat_interval(private_api.study_storage(study))


def retry_later(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    """Queues a WAITING copy of an unfinished trial's parameters, as Optuna does for stale ones.

    The copy has the same system attributes as Optuna's `RetryHeartbeatStaleTrialCallback`
    writes (so its `retried_trial_number` works) but none of the user attributes: the failure
    reason and measurements belong to the trial that stopped.

    Args:
        study: The study to queue the retry in.
        trial: The trial that stopped before its end (interrupted).
    """
    history = [*trial.system_attrs.get("retry_history", []), trial.number]
    if len(history) > MAX_RETRIES:
        return
    study.add_trial(optuna.trial.create_trial(
        state=TrialState.WAITING, params=trial.params, distributions=trial.distributions,
        system_attrs={"failed_trial": history[0], "retry_history": history}))


def retried_trial(trial: optuna.trial.FrozenTrial) -> int | None:
    """The number of the trial this one trains again (it stopped before its end), or None.

    Reads what `retry_later` and Optuna's stale-trial callback both write.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return RetryHeartbeatStaleTrialCallback.retried_trial_number(trial)


class Heartbeat:
    """Records a running trial's heartbeat in the storage from a background thread.

    Optuna beats only inside `study.optimize`; with ask-and-tell the caller must beat itself.
    A trial whose heartbeat stops for the storage's grace period (its worker was killed) is
    failed by `optuna.storages.fail_stale_trials`, which the oracle calls before every trial.

    Args:
        study: The study (its storage keeps heartbeats: see `heartbeat_interval`).
        trial: The running trial.
        interval: Seconds between beats.
    """

    def __init__(self, study: optuna.Study, trial: optuna.Trial, interval: float) -> None:
        self._storage = private_api.study_storage(study)
        self._trial_id = private_api.trial_storage_id(trial)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{trial.number}",
                                        daemon=True)

    def start(self) -> Heartbeat:
        private_api.record_heartbeat(self._storage, self._trial_id)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            private_api.record_heartbeat(self._storage, self._trial_id)
