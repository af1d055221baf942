"""A Keras Tuner oracle whose trials are asked from, and told to, an Optuna study."""

from __future__ import annotations

import time
import warnings

import keras_tuner
import optuna
from keras_tuner.engine import trial as trial_module
from optuna.trial import TrialState

from study.storage.heartbeat import Heartbeat, heartbeat_interval, retry_later
from study.storage.trials import tell_ended
from study.tuning.balance import COUNTED_STATES, LIVE_STATES, BalancedSampler
from study.tuning.distributions import sample_values
from study.tuning.renamed import renamed_argument

__all__ = ["COUNTED_STATES", "OptunaOracle"]

_MAX_POLL_SECONDS = 5.0


class OptunaOracle(keras_tuner.Oracle):
    """Samples Keras Tuner trials with an Optuna study's sampler, and stores them there.

    The Optuna storage is the single source of truth: the trial budget is counted from it, so
    any number of processes sharing one study stop at `max_trials` finished trials in total,
    and `get_best_trials` answers for the whole study, not just this process. Usable under
    any `keras_tuner.Tuner`; `OptunaTuner` also reports every epoch, so that Optuna's pruner
    can stop a trial (a plain Keras Tuner `Tuner` never reports epochs to its oracle).

    Args:
        study: The Optuna study that samples and stores the trials; its direction must be the
            objective's. None: a new in-memory study (TPE, seeded `seed`) in that direction.
        max_trials: Finished (COMPLETE or PRUNED) trials at which the search stops; None runs
            until the tuner is interrupted.
        objective: The per-epoch metric, as Keras Tuner takes it: a name whose direction it
            infers ("val_accuracy": max, "val_loss": min) or a `keras_tuner.Objective`.
        timeout: Seconds after which no new trial starts (the running one finishes).
        balanced_param: A Choice hyperparameter whose values get an equal share of trials, over
            all workers (the study's sampler is wrapped in `BalancedSampler`; it picks the rest).
            None disables it.
        n_trials: The old name of `max_trials` (deprecated; a DeprecationWarning says so).
        **kwargs: Passed to `keras_tuner.Oracle` (seed, max_consecutive_failed_trials, ...).

    Raises:
        ValueError: for a study whose direction is not the objective's, a multi-objective
            one, a `max_trials` below 1, or both `max_trials` and `n_trials`.
    """

    def __init__(self, study: optuna.Study | None = None, *, max_trials: int | None = None,
                 objective: str | keras_tuner.Objective = "val_accuracy",
                 timeout: float | None = None, balanced_param: str | None = None,
                 n_trials: int | None = None, **kwargs: object) -> None:
        max_trials = renamed_argument("max_trials", max_trials, "n_trials", n_trials)
        if max_trials is not None and max_trials < 1:
            raise ValueError(f"`max_trials` must be positive, but got {max_trials}.")
        super().__init__(objective=objective, **kwargs)
        if not isinstance(self.objective, keras_tuner.Objective):
            raise ValueError(f"`objective` must be one metric (an Optuna study of one "
                             f"direction), but got {objective!r}.")
        direction = ("minimize" if self.objective.direction == "min" else "maximize")
        if study is None:
            study = optuna.create_study(direction=direction, sampler=optuna.samplers.TPESampler(
                seed=kwargs.get("seed")))
        if study.direction.name.lower() != direction:
            raise ValueError(f"`study` must {direction} {self.objective.name!r} (the "
                             f"objective's direction is {self.objective.direction!r}), but its "
                             f"direction is {study.direction.name}.")
        # Not Keras Tuner's `max_trials`, which it would compare with this process's trials
        # alone: the budget is counted in the storage, over every worker.
        self.n_trials = max_trials
        self.study = study
        self.balanced_param = balanced_param
        if balanced_param is not None and not isinstance(study.sampler, BalancedSampler):
            study.sampler = BalancedSampler(study.sampler, balanced_param, study=study)
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._heartbeat_interval = heartbeat_interval(study)
        self._heartbeats: dict[str, Heartbeat] = {}
        self._optuna_trials: dict[str, optuna.Trial] = {}
        self._pruned: set[str] = set()
        self._local_ids: dict[int, str] = {}  # Optuna number -> Keras Tuner id, trials run here
        self.last_told: optuna.trial.FrozenTrial | None = None  # the trial ended last here
        self.verbose = 0  # Keras Tuner's tables are replaced by `study.tuning.progress`

    # -- sampling -------------------------------------------------------------------------

    def populate_space(self, trial_id: str) -> dict[str, object]:
        """Asks Optuna for the next trial; IDLE or STOPPED when the study's budget is taken.

        Trials of killed workers are failed first (their heartbeat went stale) and their
        parameters queued again, so they are retried by whoever asks next. While other
        workers' running trials hold the rest of the budget, this worker waits (IDLE) when the
        storage keeps heartbeats, since one of them may yet die and need a retry; without
        heartbeats a dead trial cannot be told from a live one, so it stops.
        """
        if self._heartbeat_interval is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(self.study)
        if self._deadline is not None and time.monotonic() >= self._deadline:
            return {"status": trial_module.TrialStatus.STOPPED}
        if self.n_trials is not None and self._count(LIVE_STATES) >= self.n_trials:
            return self._wait_or_stop()
        with warnings.catch_warnings():
            # Optuna warns that heartbeats are meant for `optimize`; this oracle beats itself.
            warnings.filterwarnings("ignore", "Heartbeat of storage is supposed")
            optuna_trial = self.study.ask()
            if self._is_surplus(optuna_trial):
                optuna_trial.set_user_attr("failure_reason",
                                           "surplus: the budget was already used")
                self.study.tell(optuna_trial, state=TrialState.FAIL)
                return self._wait_or_stop()
            values = sample_values(optuna_trial, self.hyperparameters)
        self._optuna_trials[trial_id] = optuna_trial
        if self._heartbeat_interval is not None:
            self._heartbeats[trial_id] = Heartbeat(self.study, optuna_trial,
                                                   self._heartbeat_interval).start()
        return {"status": trial_module.TrialStatus.RUNNING, "values": values}

    def _wait_or_stop(self) -> dict[str, object]:
        finished = self._count(COUNTED_STATES)
        if self._heartbeat_interval is None or finished >= self.n_trials:
            return {"status": trial_module.TrialStatus.STOPPED}
        # Keras Tuner asks again at once after IDLE: pace the polling of the storage.
        time.sleep(min(self._heartbeat_interval, _MAX_POLL_SECONDS))
        return {"status": trial_module.TrialStatus.IDLE}

    def _is_surplus(self, optuna_trial: optuna.Trial) -> bool:
        """True when other workers took the last places of the budget between count and ask.

        Storage numbers order the trials the same way for every worker, so exactly the trials
        beyond `n_trials` among the live ones see themselves as surplus.
        """
        if self.n_trials is None:
            return False
        earlier = [trial for trial in self.study.get_trials(deepcopy=False, states=LIVE_STATES)
                   if trial.number <= optuna_trial.number]
        return len(earlier) > self.n_trials

    def _count(self, states: tuple[TrialState, ...]) -> int:
        return len(self.study.get_trials(deepcopy=False, states=states))

    # -- reporting ------------------------------------------------------------------------

    def report(self, trial_id: str, value: float, step: int) -> bool:
        """Records an intermediate objective value; returns True when the trial should stop.

        Keras Tuner never reports per-epoch metrics to its oracle and ignores a STOPPED status,
        so the tuner calls this from `on_epoch_end` and stops training itself.
        """
        optuna_trial = self._optuna_trials[trial_id]
        optuna_trial.report(value, step)
        if optuna_trial.should_prune():
            self._pruned.add(trial_id)
            return True
        return False

    def stop_early(self, trial_id: str, reason: str) -> None:
        """Ends a trial early without a failure, e.g. when its loss diverged.

        The trial is stored as PRUNED (its last reported value stands) with `reason` in the
        user attribute `failure_reason`, so it counts against the budget and the search goes on.
        """
        self._optuna_trials[trial_id].set_user_attr("failure_reason", reason)
        self._pruned.add(trial_id)

    def set_user_attrs(self, trial_id: str, attrs: dict[str, object]) -> None:
        """Stores what an analyst needs about a trial as Optuna user attributes."""
        optuna_trial = self._optuna_trials[trial_id]
        for key, value in attrs.items():
            optuna_trial.set_user_attr(key, value)

    def optuna_trial(self, trial_id: str) -> optuna.Trial:
        """The Optuna trial behind a running Keras Tuner trial."""
        return self._optuna_trials[trial_id]

    # Keras Tuner asks overrides of create/update/end_trial to hold the oracle's lock, so that
    # the Optuna trial is told and Keras Tuner's record updated in one step. The lock is taken
    # once per thread, so the base class's synchronized `end_trial` called here cannot deadlock.
    @keras_tuner.synchronized
    def end_trial(self, trial: keras_tuner.engine.trial.Trial) -> None:
        """Tells Optuna how the trial ended, then does Keras Tuner's own bookkeeping."""
        optuna_trial = self._optuna_trials.pop(trial.trial_id)
        self._local_ids[optuna_trial.number] = trial.trial_id
        self._stop_heartbeat(trial.trial_id)
        completed = trial.status == trial_module.TrialStatus.COMPLETED
        stopped_early = trial.trial_id in self._pruned
        self._pruned.discard(trial.trial_id)
        self.last_told = tell_ended(
            self.study, optuna_trial, stopped_early=stopped_early,
            best_value=(self.trials[trial.trial_id].metrics.get_best_value(self.objective.name)
                        if completed and not stopped_early else None),
            error=None if completed else trial.message or "unknown error")
        super().end_trial(trial)

    def abandon_running(self, reason: str) -> None:
        """Fails this process's running trials with `reason` and queues them to be retried.

        Called when the search is interrupted (Ctrl-C): the study stays resumable, and the
        interrupted configurations are the first ones the next run trains.
        """
        for trial_id, optuna_trial in list(self._optuna_trials.items()):
            self._stop_heartbeat(trial_id)
            optuna_trial.set_user_attr("failure_reason", reason)
            retry_later(self.study, self.study.tell(optuna_trial, state=TrialState.FAIL))
            del self._optuna_trials[trial_id]

    def _stop_heartbeat(self, trial_id: str) -> None:
        heartbeat = self._heartbeats.pop(trial_id, None)
        if heartbeat is not None:
            heartbeat.stop()

    # -- answers for the whole study ------------------------------------------------------

    @property
    def maximizes(self) -> bool:
        """Whether a higher objective is better."""
        return self.objective.direction == "max"

    def get_best_trials(self, num_trials: int = 1) -> list[keras_tuner.engine.trial.Trial]:
        """The best COMPLETE trials of the whole study, from every process, best first."""
        complete = self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        complete.sort(key=lambda trial: trial.value, reverse=self.maximizes)
        return [self._as_keras_tuner_trial(trial) for trial in complete[:num_trials]]

    def remaining_trials(self) -> int | None:
        """Trials left in the study's budget, counted from the storage."""
        if self.n_trials is None:
            return None
        return max(0, self.n_trials - self._count(COUNTED_STATES))

    def _as_keras_tuner_trial(self, frozen: optuna.trial.FrozenTrial
                              ) -> keras_tuner.engine.trial.Trial:
        """The Keras Tuner view of a stored trial; one run here keeps its id (and checkpoint)."""
        hyperparameters = self.hyperparameters.copy()
        hyperparameters.values = dict(frozen.params)
        trial_id = self._local_ids.get(frozen.number, str(frozen.number))
        kt_trial = trial_module.Trial(hyperparameters=hyperparameters, trial_id=trial_id,
                                      status=trial_module.TrialStatus.COMPLETED)
        kt_trial.score = frozen.value
        return kt_trial
