"""What a confirmation rerun leaves in Optuna storage, and the reruns already there read back.

`study.confirm` reruns the best search trial of each placement with fresh seeds; each rerun is
one COMPLETE trial of the study `NAME/confirm` with the source trial's params and distributions,
its test accuracy as value and the user attributes of `store_rerun` (seed, source_trial, the
placement, train_seconds, test_loss, compiled_model, dtype_policy). The simulated studies of
`analysis.simulate` store their reruns with the same functions.

Light on purpose: Optuna is imported inside the functions, so that `python -m study.confirm`
imports this module before it can turn a Ctrl-C into one line.
"""

from __future__ import annotations

import datetime
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from study.errors import ConfigError
from study.storage.contract import CONFIRM_SUFFIX, PLACEMENTS, SCIENTIFIC_PARAM

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

__all__ = ["CONFIRM_SEED_BASE", "best_trials", "confirm_study_name", "done_reruns",
           "rerun_seeds", "store_rerun"]

# Search trial n trains with seed `config.seed + n`; reruns start far above so that no rerun
# repeats a search trial's seed (for studies under about a thousand trials).
CONFIRM_SEED_BASE = 1000
MAX_RERUNS = 100_000  # per placement: far beyond any affordable confirmation, below any crash


def confirm_study_name(name: str) -> str:
    """The name of the study holding the reruns of search study `name`."""
    return f"{name}{CONFIRM_SUFFIX}"


def rerun_seeds(count: int) -> list[int]:
    """The seeds of `count` reruns: CONFIRM_SEED_BASE, CONFIRM_SEED_BASE + 1, ..."""
    if count < 1:
        raise ConfigError(f"`seeds` must be positive, but got {count}.")
    if count > MAX_RERUNS:
        raise ConfigError(f"`seeds` must be at most {MAX_RERUNS} per placement (each is a "
                          f"whole training run), but got {count}.")
    return [CONFIRM_SEED_BASE + k for k in range(count)]


def best_trials(study: optuna.Study) -> dict[str, FrozenTrial]:
    """The COMPLETE trial with the highest value for each placement (`best_per_placement`).

    Raises:
        ConfigError: when a placement has no COMPLETE trial.
    """
    from optuna.trial import TrialState

    from study.storage.trials import best_per_placement

    best = best_per_placement(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    for placement in PLACEMENTS:
        if placement not in best:
            raise ConfigError(
                f"`study_name` must name a study with a COMPLETE trial for each placement, but "
                f"{study.study_name!r} has none with {SCIENTIFIC_PARAM}={placement!r}; run "
                "more of the search first.")
    return best


def store_rerun(confirm: optuna.Study, source: FrozenTrial, seed: int, accuracy: float, *,
                loss: float, seconds: float, compiled_model: str,
                dtype_policy: str, started: datetime.datetime | None = None,
                history: Sequence[dict[str, float]] = (),
                code_version: str | None = None) -> None:
    """Stores one rerun of a search trial as a COMPLETE trial of the confirmation study.

    Args:
        confirm: The confirmation study (`confirm_study_name` of the search).
        source: The search trial rerun; its params and distributions are copied.
        seed: The rerun's seed (`rerun_seeds`).
        accuracy: Test accuracy, the trial's value.
        loss: Test loss.
        seconds: Seconds spent training.
        compiled_model: How the model was obtained ("new" or "reused").
        dtype_policy: The model's Keras dtype policy.
        started: When the rerun began; the trial then spans it in the dashboard's timeline
            (without it, start and end are both the moment it is stored).
        history: Each epoch's training metrics, as `fit` logged them.
        code_version: The code the rerun ran on (`study.runs.setup.code_version`).

    The trial's user attributes: seed, source_trial, the placement, train_seconds, test_loss,
    compiled_model, dtype_policy, history (`study.storage.trials.epoch_history`) and, when
    given, code_version.
    """
    from optuna.trial import create_trial

    from study.storage.trials import epoch_history

    trial = create_trial(
        params=source.params, distributions=source.distributions, value=accuracy,
        user_attrs={"seed": seed, "source_trial": source.number,
                    SCIENTIFIC_PARAM: source.params[SCIENTIFIC_PARAM],
                    "train_seconds": round(seconds, 3), "test_loss": loss,
                    "compiled_model": compiled_model, "dtype_policy": dtype_policy,
                    "history": epoch_history(history),
                    **({} if code_version is None else {"code_version": code_version})})
    if started is not None:
        trial.datetime_start = started
    confirm.add_trial(trial)


def done_reruns(confirm: optuna.Study | None, best: dict[str, FrozenTrial],
                 storage_url: str) -> dict[str, dict[int, float]]:
    """Per placement, the test accuracy of each seed already rerun (none without `confirm`).

    Raises:
        ConfigError: when a placement's reruns retrain another trial than its best one now.
    """
    from optuna.trial import TrialState

    from study.storage.opener import mask_password

    done: dict[str, dict[int, float]] = {placement: {} for placement in PLACEMENTS}
    if confirm is None:
        return done
    for trial in confirm.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        placement = trial.params.get(SCIENTIFIC_PARAM)
        source = trial.user_attrs.get("source_trial")
        if placement in best and source != best[placement].number:
            # Mixing reruns of two configurations would make the spread meaningless.
            delete = shlex.join(["optuna", "delete-study", "--storage",
                                 mask_password(storage_url), "--study-name", confirm.study_name])
            raise ConfigError(
                f"`study_name` must name a search whose best trials are the ones already "
                f"rerun, but {confirm.study_name!r} reruns trial {source} for "
                f"{SCIENTIFIC_PARAM}={placement!r} and the search's best is now trial "
                f"{best[placement].number}; start over with `{delete}`.")
        if placement in done:
            done[placement][trial.user_attrs.get("seed")] = trial.value
    return done
