"""What a confirmation rerun leaves in Optuna storage, and the reruns already there read back.

`study.select` reruns the top search trials of each value of the study's question
(`study.storage.question`) on the validation split (study `NAME/select`), `study.confirm` each
value's pick on the test split (`NAME/confirm`). Each rerun is one COMPLETE trial with the
scientific parameter as its only parameter, its accuracy as value and the user attributes of
`store_rerun` (seeds, source_trial, source_params, the scientific parameter's value,
train_seconds, the loss, compiled_model, dtype_policy, history). The commands' workers take
each rerun through the storage (`study.storage.claims`), so a rerun study may also hold
WAITING, RUNNING and FAIL trials (queued, running, killed, interrupted or duplicate reruns):
only COMPLETE ones count, the first of each key (`rerun_key`, `candidate_key`). The simulated
studies of `analysis.calibration.simulate` store their reruns with the same fields.

Light on purpose: Optuna is imported inside the functions, so that `python -m study.confirm`
imports this module before it can turn a Ctrl-C into one line.
"""

from __future__ import annotations

import datetime
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from study.errors import ConfigError
from study.storage.contract import CONFIRM_SUFFIX, SELECT_SUFFIX, SOURCE_PARAMS_ATTR
from study.storage.question import Question

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

__all__ = ["CONFIRM_SEED_BASE", "SELECT_SEED_BASE", "RerunSeeds", "best_trials",
           "candidate_key", "confirm_study_name", "done_reruns", "measured_attrs",
           "rerun_fields", "rerun_key", "rerun_seeds", "reruns_by_value", "select_study_name",
           "source_params", "store_rerun"]

# Search trial n trains with seed `config.seed + n`; reruns start far above so that no rerun
# repeats a search trial's seed (for studies under about a thousand trials).
CONFIRM_SEED_BASE = 1000
# The selection's seeds sit between the search's and the confirmation's.
SELECT_SEED_BASE = 500
MAX_RERUNS = 100_000  # per value: far beyond any affordable confirmation, below any crash


def confirm_study_name(name: str) -> str:
    """The name of the study holding the reruns of search study `name`."""
    return f"{name}{CONFIRM_SUFFIX}"


def select_study_name(name: str) -> str:
    """The name of the study holding the selection reruns of search study `name`."""
    return f"{name}{SELECT_SUFFIX}"


def rerun_seeds(count: int, base: int = CONFIRM_SEED_BASE) -> list[int]:
    """The seeds of `count` reruns: base, base + 1, ... (CONFIRM_SEED_BASE by default)."""
    if count < 1:
        raise ConfigError(f"`seeds` must be positive, but got {count}.")
    if count > MAX_RERUNS:
        raise ConfigError(f"`seeds` must be at most {MAX_RERUNS} per value (each is a "
                          f"whole training run), but got {count}.")
    return [base + k for k in range(count)]


def best_trials(study: optuna.Study, question: Question) -> dict[object, FrozenTrial]:
    """The COMPLETE trial with the highest value for each value of `question` (`best_per_value`).

    Raises:
        ConfigError: when a value has no COMPLETE trial.
    """
    from optuna.trial import TrialState

    from study.storage.trials import best_per_value

    best = best_per_value(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)),
                          question)
    for value in question.values:
        if value not in best:
            raise ConfigError(
                f"`study_name` must name a study with a COMPLETE trial for each value of "
                f"`{question.param}`, but {study.study_name!r} has none with "
                f"{question.param}={value!r}; run more of the search first.")
    return best


@dataclass(frozen=True)
class RerunSeeds:
    """The seeds of one rerun, one per source of variation (Bouthillier et al. 2021).

    Attributes:
        seed: The rerun's number in its study (`rerun_seeds`): what resuming skips on, and
            what pairs the reruns of the question's values.
        weights: Seeds the initial weights and dropout (Python, NumPy, Keras).
        data: Seeds the order of the training examples and their augmentation (the tf.data
            pipeline; without TensorFlow, Keras shuffles arrays with the weights' seed).
    """

    seed: int
    weights: int
    data: int

    def attrs(self) -> dict[str, int]:
        """The user attributes a rerun stores about its seeds."""
        return {"seed": self.seed, "weights_seed": self.weights, "data_seed": self.data}


def rerun_fields(source: FrozenTrial, seeds: RerunSeeds | int, *, question: Question,
                 code_version: str | None = None, extra: Mapping[str, object] | None = None
                 ) -> tuple[dict[str, object], dict[str, object], dict[str, object]]:
    """What a rerun of `source` holds before it trains: (params, distributions, user_attrs).

    Only the scientific parameter is stored as a parameter: the rest of the configuration is
    fixed per source trial, so as parameters it would read as "important" in the dashboard's
    importance panel; it is the user attribute SOURCE_PARAMS_ATTR instead. A rerun taken by a
    worker is queued with these (`study.storage.claims`), and its measurements
    (`measured_attrs`) are added when it ends.

    Args:
        source: The search trial rerun.
        seeds: The rerun's seeds (`RerunSeeds`); an int seeds everything alike.
        question: What the study asks: its parameter is the rerun's only parameter.
        code_version: The code the rerun runs on (`study.engine.setup.code_version`).
        extra: More user attributes (the search value).
    """
    if isinstance(seeds, int):
        seeds = RerunSeeds(seeds, seeds, seeds)
    param = question.param
    compared = question.check_value(source.params.get(param))
    user_attrs = {**seeds.attrs(), "source_trial": source.number,
                  SOURCE_PARAMS_ATTR: source_params(source, param), param: compared,
                  **({} if code_version is None else {"code_version": code_version}),
                  **dict(extra or {})}
    return {param: compared}, {param: source.distributions[param]}, user_attrs


def measured_attrs(*, loss: float, seconds: float, compiled_model: str, dtype_policy: str,
                   history: Sequence[dict[str, float]] = (), loss_name: str = "test_loss"
                   ) -> dict[str, object]:
    """The user attributes a rerun adds when it ends: see `store_rerun`."""
    from study.storage.trials import epoch_history

    return {"train_seconds": round(seconds, 3), loss_name: loss,
            "compiled_model": compiled_model, "dtype_policy": dtype_policy,
            "history": epoch_history(history)}


def store_rerun(reruns: optuna.Study, source: FrozenTrial, seeds: RerunSeeds | int,
                value: float, *, question: Question, loss: float, seconds: float,
                compiled_model: str,
                dtype_policy: str, started: datetime.datetime | None = None,
                history: Sequence[dict[str, float]] = (), code_version: str | None = None,
                loss_name: str = "test_loss", extra: Mapping[str, object] | None = None
                ) -> None:
    """Stores one rerun of a search trial as a COMPLETE trial of a rerun study, at once.

    The commands' workers take their reruns through the storage instead
    (`study.storage.claims`), with the same fields; the simulated studies of `analysis` store
    theirs here.

    Args:
        reruns: The confirmation (`confirm_study_name`) or selection study.
        source: The search trial rerun.
        seeds: The rerun's seeds (`RerunSeeds`); an int seeds everything alike.
        value: Test accuracy (confirmation) or validation accuracy (selection).
        question: What the study asks: its parameter is the rerun's only parameter.
        loss: The loss on the same split, stored as `loss_name`.
        seconds: Seconds spent training.
        compiled_model: How the model was obtained ("new" or "reused").
        dtype_policy: The model's Keras dtype policy.
        started: When the rerun began; the trial then spans it in the dashboard's timeline
            (without it, start and end are both the moment it is stored).
        history: Each epoch's training metrics, as `fit` logged them.
        code_version: The code the rerun ran on (`study.engine.setup.code_version`).
        loss_name: "test_loss" or "val_loss".
        extra: More user attributes (the initial weights' digest, the search value).

    The trial's user attributes: seed, weights_seed, data_seed, source_trial, source_params,
    the scientific parameter's value (under its name), train_seconds, the loss,
    compiled_model, dtype_policy, history (`study.storage.trials.epoch_history`),
    code_version when given, and `extra`.
    """
    from optuna.trial import create_trial

    params, distributions, user_attrs = rerun_fields(source, seeds, question=question,
                                                     code_version=code_version, extra=extra)
    measured = measured_attrs(loss=loss, seconds=seconds, compiled_model=compiled_model,
                              dtype_policy=dtype_policy, history=history, loss_name=loss_name)
    trial = create_trial(params=params, distributions=distributions, value=value,
                         user_attrs=user_attrs | measured)
    if started is not None:
        trial.datetime_start = started
    reruns.add_trial(trial)


def source_params(trial: FrozenTrial, param: str) -> dict[str, object]:
    """The configuration a rerun retrains: every parameter but the scientific one, `param`.

    Reruns stored before SOURCE_PARAMS_ATTR existed kept the whole configuration as params;
    both read alike here.
    """
    stored = trial.user_attrs.get(SOURCE_PARAMS_ATTR)
    params = dict(stored) if isinstance(stored, dict) else dict(trial.params)
    params.pop(param, None)
    return params


def rerun_key(param: str) -> Callable[[FrozenTrial], tuple[object, int] | None]:
    """A confirmation rerun's key, (value of `param`, seed); None for a trial without both.

    Reruns stored before SOURCE_PARAMS_ATTR existed kept the value among their params, later
    ones have it as their only param; both read alike.
    """

    def key_of(trial: FrozenTrial) -> tuple[object, int] | None:
        value, seed = trial.params.get(param), trial.user_attrs.get("seed")
        return None if value is None or seed is None else (value, seed)

    return key_of


def candidate_key(trial: FrozenTrial) -> tuple[int, int] | None:
    """A selection rerun's key, (source trial, seed); None for a trial without both."""
    source, seed = trial.user_attrs.get("source_trial"), trial.user_attrs.get("seed")
    return None if source is None or seed is None else (source, seed)


def done_reruns(confirm: optuna.Study | None, best: dict[object, FrozenTrial],
                storage_url: str, question: Question) -> dict[object, dict[int, float]]:
    """Per value of `question`, the test accuracy of each seed already rerun.

    Args:
        confirm: The confirmation study; None when it does not exist yet (no reruns).
        best: Per value, the search trial its reruns retrain (`best_trials`).
        storage_url: The storage's URL, for the command the error shows.
        question: What the study asks.

    Returns:
        As `reruns_by_value`.

    Raises:
        ConfigError: as `reruns_by_value`.
    """
    from optuna.trial import TrialState

    if confirm is None:
        return {value: {} for value in question.values}
    return reruns_by_value(confirm.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)),
                           best, storage_url=storage_url, question=question,
                           study_name=confirm.study_name)


def reruns_by_value(complete: Iterable[FrozenTrial], best: dict[object, FrozenTrial], *,
                    storage_url: str, question: Question, study_name: str
                    ) -> dict[object, dict[int, float]]:
    """Per value of `question`, the accuracy of each seed among COMPLETE reruns.

    Only the first COMPLETE rerun (lowest number) of each (value, seed) counts: a second one,
    stored twice by two processes before reruns were taken through the storage, is not
    counted again. FAIL trials (killed, interrupted, duplicates) are never among `complete`.

    Args:
        complete: The confirmation study's COMPLETE trials.
        best: Per value, the search trial its reruns retrain (`best_trials`).
        storage_url: The storage's URL, for the command the error shows.
        question: What the study asks.
        study_name: The confirmation study's name, for the error.

    Returns:
        Value -> {seed: accuracy}, in the question's order (reference first), every value
        present even without reruns, seeds in the order they were stored.

    Raises:
        ConfigError: when a value's reruns retrain another trial than its best one now.
    """
    from study.storage.opener import mask_password

    done: dict[object, dict[int, float]] = {value: {} for value in question.values}
    for trial in sorted(complete, key=lambda trial: trial.number):
        placement = trial.params.get(question.param)
        source = trial.user_attrs.get("source_trial")
        if placement in best and source != best[placement].number:
            # Mixing reruns of two configurations would make the spread meaningless.
            delete = shlex.join(["optuna", "delete-study", "--storage",
                                 mask_password(storage_url), "--study-name", study_name])
            raise ConfigError(
                f"`study_name` must name a search whose best trials are the ones already "
                f"rerun, but {study_name!r} reruns trial {source} for "
                f"{question.param}={placement!r} and the search's best is now trial "
                f"{best[placement].number}; start over with `{delete}`.")
        if placement in done:
            done[placement].setdefault(trial.user_attrs.get("seed"), trial.value)
    return done
