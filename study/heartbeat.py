"""A trial's heartbeat, so that a killed worker's trial is found stale, failed and retried."""

from __future__ import annotations

import threading

import optuna
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.trial import TrialState

__all__ = ["MAX_RETRIES", "Heartbeat", "heartbeat_interval", "retry_later", "stale_callback"]

MAX_RETRIES = 3  # a trial that kills its worker three times is not retried again


def stale_callback() -> RetryHeartbeatStaleTrialCallback:
    """What the storage does with a stale trial: queue its parameters again."""
    return RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRIES)


def heartbeat_interval(storage: optuna.storages.BaseStorage) -> float | None:
    """Seconds between heartbeats the storage expects, or None when it keeps none."""
    # A study wraps its RDB storage in a cache, which answers for heartbeats all the same.
    if not isinstance(storage, BaseHeartbeat):
        return None
    return storage.get_heartbeat_interval()


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


class Heartbeat:
    """Records a running trial's heartbeat in the storage from a background thread.

    Optuna beats only inside `study.optimize`; with ask-and-tell the caller must beat itself.
    A trial whose heartbeat stops for the storage's grace period (its worker was killed) is
    failed by `optuna.storages.fail_stale_trials`, which the oracle calls before every trial.

    Args:
        storage: The study's storage (heartbeats are enabled when it was opened).
        trial_id: The storage id (`trial._trial_id`) of the running trial.
        interval: Seconds between beats.
    """

    def __init__(self, storage: BaseHeartbeat, trial_id: int,
                 interval: float) -> None:
        self._storage = storage
        self._trial_id = trial_id
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{trial_id}",
                                        daemon=True)

    def start(self) -> Heartbeat:
        self._storage.record_heartbeat(self._trial_id)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            self._storage.record_heartbeat(self._trial_id)
