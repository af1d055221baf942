"""The Keras Tuner front of a study: `tuner.search(...)` with trials driven by Optuna."""

from __future__ import annotations

import atexit
import math
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import keras
import keras_tuner
import optuna

from study import private_api
from study.storage.trials import diverged_reason, trial_measurements
from study.tuning.compiled_models import TrialModels
from study.tuning.custom_gradients import released_custom_gradients
from study.tuning.oracle import OptunaOracle
from study.tuning.progress import Progress
from study.tuning.seeding import seed_trial

__all__ = ["OptunaTuner"]


class OptunaTuner(keras_tuner.Tuner):
    """A Keras Tuner `Tuner` whose oracle is an Optuna study.

    Use it like any Keras Tuner tuner (`search`, `get_best_hyperparameters`); what is new:
    every epoch's validation metric is reported to Optuna, a trial its pruner rejects stops
    training at once and is stored as PRUNED, a diverging trial (non-finite loss) stops and is
    stored as PRUNED with the reason, and each trial leaves its measurements as user attributes.

    Args:
        hypermodel: A `build(hp) -> keras.Model` function (or `HyperModel`).
        study: The Optuna study that samples and stores the trials (its direction must be the
            objective's); None: a new in-memory study. Give a study in a storage
            (`optuna.create_study(storage=..., load_if_exists=True)`) to resume or share it.
        max_trials: Finished trials, over all processes, at which the search stops.
        objective: The per-epoch metric to optimise and report, as Keras Tuner takes it: a
            name whose direction it infers, or a `keras_tuner.Objective`.
        oracle: An `OptunaOracle` made beforehand, instead of `study`, `max_trials`,
            `objective`, `timeout`, `balanced_param` and `seed`.
        balanced_param: Choice hyperparameter that gets an equal share of trials.
        timeout: Seconds after which no new trial starts.
        seed: Base seed; trial `n` of the study trains with seed `seed + n`.
        images_per_epoch: Training images per epoch, to store images per second.
        training_data: Makes a trial's training data from its seed, replacing the first
            argument of `search`: the order of examples then depends on the trial alone, not
            on how many trials this process ran before, so any trial can be reproduced.
        progress: Where concise progress lines go; None prints nothing.
        directory: Keras Tuner's folder for checkpoints; by default a private temporary folder
            per process (removed at exit), since the Optuna storage holds the study itself.
        project_name: Keras Tuner's sub-folder of `directory` (default "untitled_project").
        overwrite: Start Keras Tuner's folder afresh (default True: the study, not the folder,
            is the record a search resumes from).
        keep_best_weights: Save each trial's best-epoch weights, as Keras Tuner does, so that
            `get_best_models` works in this process. Saving costs 0.4-0.8 s per improving
            epoch on CPU; a study that retrains from the best hyperparameters can skip it.
        architecture_params: The hyperparameters that change the model's graph; the others
            must only change values held in model or optimizer variables. Given, a trial on
            an architecture this process already compiled reuses that model, re-initialised
            (`study.tuning.compiled_models`); None builds and compiles every trial's model.
        reuse_compiled: Whether to reuse compiled models (with `architecture_params`).
        dtype_policy: Keras dtype policy of every trial's model, e.g. "mixed_float16"; None
            takes the global policy when the tuner is made. Set before each build, since
            Keras Tuner's `clear_session()` resets the global policy.
        code_version: The code the trials run on, stored with each (`code_version`).
        n_trials: The old name of `max_trials` (deprecated).
        **kwargs: Passed to `keras_tuner.Tuner`.

    Raises:
        ValueError: for an `oracle` given with the arguments it replaces, or one that is not
            an `OptunaOracle`; see `OptunaOracle` for the others.
    """

    def __init__(self, hypermodel: Callable[[keras_tuner.HyperParameters], keras.Model] |
                 keras_tuner.HyperModel, *, study: optuna.Study | None = None,
                 max_trials: int | None = None,
                 objective: str | keras_tuner.Objective = "val_accuracy",
                 oracle: OptunaOracle | None = None, balanced_param: str | None = None,
                 timeout: float | None = None, seed: int = 0, images_per_epoch: int | None = None,
                 training_data: Callable[[int], object] | None = None,
                 progress: Progress | None = None, directory: str | None = None,
                 project_name: str = "untitled_project", overwrite: bool = True,
                 keep_best_weights: bool = True,
                 architecture_params: tuple[str, ...] | None = None,
                 reuse_compiled: bool = True, dtype_policy: str | None = None,
                 code_version: str | None = None, n_trials: int | None = None,
                 **kwargs: object) -> None:
        if oracle is None:
            oracle = OptunaOracle(study, max_trials=max_trials, objective=objective,
                                  timeout=timeout, balanced_param=balanced_param, seed=seed,
                                  n_trials=n_trials)
        else:
            _check_own_oracle(oracle, study=study, max_trials=max_trials, n_trials=n_trials,
                              timeout=timeout, balanced_param=balanced_param,
                              objective=None if objective == "val_accuracy" else objective)
            seed = oracle.seed if seed == 0 and oracle.seed is not None else seed
        if directory is None:
            directory = tempfile.mkdtemp(prefix="bnstudy-tuner-")
            atexit.register(shutil.rmtree, directory, ignore_errors=True)
        models = TrialModels(hypermodel, dtype_policy=dtype_policy, reuse=reuse_compiled,
                             architecture_params=architecture_params)
        super().__init__(oracle=oracle, hypermodel=models, directory=directory,
                         project_name=project_name, overwrite=overwrite, **kwargs)
        self.seed = seed
        self.images_per_epoch = images_per_epoch
        self.training_data = training_data
        self.progress = progress
        self.code_version = code_version
        self.keep_best_weights = keep_best_weights
        self._epoch_started = 0.0
        self._epoch_seconds: list[float] = []
        self._history: list[dict[str, float]] = []
        self._param_count = 0
        self._dtype_policy = ""
        self._building_for_trial = False

    def search(self, *fit_args: object, **fit_kwargs: object) -> None:
        """Runs trials until the study's budget is used; arguments go to `model.fit`.

        Ctrl-C stops at once: the running trial is stored as FAIL ("interrupted") and its
        parameters are queued, so running the same search again resumes with it.
        """
        fit_kwargs.setdefault("verbose", 0)
        if self.progress is not None:
            self.progress.search_started(self.oracle.remaining_trials())
        try:
            super().search(*fit_args, **fit_kwargs)
        except KeyboardInterrupt:
            self.oracle.abandon_running("interrupted by the user")
            raise

    def on_trial_begin(self, trial: keras_tuner.engine.trial.Trial) -> None:
        """Seeds the trial and resets its measurements."""
        number = self.oracle.optuna_trial(trial.trial_id).number
        # Seeded per trial so that any trial can be reproduced on its own; TensorFlow's global
        # seed stays the study's, since changing it would recompile reused models' steps.
        seed_trial(self.seed + number, tensorflow_seed=self.seed)
        self._epoch_seconds = []
        self._history = []
        if self.progress is not None:
            self.progress.trial_started(number, trial.hyperparameters.values,
                                        self.oracle.remaining_trials())

    def on_epoch_begin(self, trial: keras_tuner.engine.trial.Trial, model: keras.Model,
                       epoch: int, logs: dict[str, float] | None = None) -> None:
        if epoch == 0:
            self._param_count = model.count_params()
            self._dtype_policy = model.dtype_policy.name
        self._epoch_started = time.perf_counter()

    def on_batch_end(self, trial: keras_tuner.engine.trial.Trial, model: keras.Model,
                     batch: int, logs: dict[str, float] | None = None) -> None:
        """Stops training at the first non-finite loss, instead of wasting the epoch's rest.

        Keras Tuner's own callback already reads every batch's logs, so this costs nothing
        more; `on_epoch_end` then records why the trial stopped.
        """
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            model.stop_training = True

    def on_epoch_end(self, trial: keras_tuner.engine.trial.Trial, model: keras.Model,
                     epoch: int, logs: dict[str, float] | None = None) -> None:
        """Reports the epoch to Optuna and stops training when pruned or diverged."""
        self._epoch_seconds.append(time.perf_counter() - self._epoch_started)
        logs = dict(logs or {})
        self._history.append(logs)
        objective = self.oracle.objective.name
        value = float(logs[objective])
        step = epoch + 1  # the number of epochs trained, the pruners' resource
        should_prune = self.oracle.report(trial.trial_id, value, step)
        loss = float(logs.get("loss", 0.0))
        if not math.isfinite(loss):
            self.oracle.stop_early(trial.trial_id, diverged_reason(loss, step))
            should_prune = True
        if should_prune:
            model.stop_training = True
        if self.progress is not None:
            self.progress.epoch_ended(step, logs, pruned=should_prune)

    def run_trial(self, trial: keras_tuner.engine.trial.Trial, *args: object,
                  **kwargs: object) -> list[keras.callbacks.History]:
        """Trains the trial's model, then stores its measurements as Optuna user attributes."""
        number = self.oracle.optuna_trial(trial.trial_id).number
        if self.training_data is not None:
            args = (self.training_data(self.seed + number), *args[1:])
        with released_custom_gradients():  # else each trial's graph stays in memory
            histories = super().run_trial(trial, *args, **kwargs)
        attrs = trial_measurements(
            self._history, self.oracle.objective.name, epoch_seconds=self._epoch_seconds,
            param_count=self._param_count, seed=self.seed + number,
            compiled_model=self.hypermodel.last_build, dtype_policy=self._dtype_policy,
            images_per_epoch=self.images_per_epoch, code_version=self.code_version,
            maximize=self.oracle.maximizes)
        self.oracle.set_user_attrs(trial.trial_id, attrs)
        return histories

    def _build_and_fit_model(self, trial: keras_tuner.engine.trial.Trial, *args: object,
                             **kwargs: object) -> keras.callbacks.History:
        # A private method of Keras Tuner (see `private_api.OVERRIDDEN_METHODS`); its
        # `run_trial` adds the best-epoch checkpoint to the callbacks given here.
        if not self.keep_best_weights:
            kwargs["callbacks"] = [callback for callback in kwargs.get("callbacks", [])
                                   if not private_api.is_best_epoch_checkpoint(callback)]
        self._building_for_trial = True
        try:
            return super()._build_and_fit_model(trial, *args, **kwargs)
        finally:
            self._building_for_trial = False

    def _try_build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        # A private method of Keras Tuner (see `private_api.OVERRIDDEN_METHODS`). It clears the
        # session before every build, which would also drop what the cached models compiled;
        # a trial that may reuse one skips it. Models for `get_best_models` are always built
        # fresh, so two of them never share one object.
        if self._building_for_trial and self.hypermodel.reuse:
            return self.hypermodel.build_for_trial(hp)
        return super()._try_build(hp)

    def load_model(self, trial: keras_tuner.engine.trial.Trial) -> keras.Model:
        """The trial's model at its best epoch, as Keras Tuner's `get_best_models` expects."""
        if not self.keep_best_weights:
            raise ValueError("`get_best_models` needs the best epoch's weights, which are not "
                             "kept with keep_best_weights=False; retrain a model from "
                             "`get_best_hyperparameters()` instead.")
        if not Path(private_api.checkpoint_path(self, trial.trial_id)).exists():
            raise ValueError(f"`get_best_models` loads weights saved by this process, but "
                             f"trial {trial.trial_id} was trained elsewhere; retrain a model "
                             f"from `get_best_hyperparameters()` instead.")
        return super().load_model(trial)

    def on_trial_end(self, trial: keras_tuner.engine.trial.Trial) -> None:
        super().on_trial_end(trial)
        if self.progress is not None:
            # Optuna's trial, for its number: Keras Tuner's ids count this process's trials
            # only, and differ from the numbers the progress lines print once a study resumes.
            complete = self.oracle.study.get_trials(deepcopy=False,
                                                    states=(optuna.trial.TrialState.COMPLETE,))
            sign = 1 if self.oracle.maximizes else -1
            best = max(complete, key=lambda frozen: sign * frozen.value, default=None)
            self.progress.trial_ended(self.oracle.last_told, best,
                                      self.oracle.remaining_trials())



def _check_own_oracle(oracle: object, **replaced: object) -> None:
    """Refuses an oracle that is not an `OptunaOracle`, or one given beside what it replaces."""
    if not isinstance(oracle, OptunaOracle):
        raise ValueError(f"`oracle` must be an OptunaOracle (its trials live in an Optuna "
                         f"study), but got {type(oracle).__name__}; under any other oracle use "
                         "a plain keras_tuner.Tuner.")
    given = sorted(name for name, value in replaced.items() if value is not None)
    if given:
        raise ValueError(f"`oracle` replaces {', '.join(given)}: give them to the "
                         f"OptunaOracle, but got {', '.join(f'{n}=' for n in given)} beside it.")
