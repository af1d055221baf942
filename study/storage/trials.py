"""What a search trial leaves in Optuna storage, and the best trial of each value read back.

The search (`study.tuning.oracle`, `study.tuning.tuner`) and the simulated studies of
`analysis.calibration.simulate` both write trials with these functions, so what `analysis` is
tested on is what a search stores:

- one intermediate value per epoch trained, at steps 1, 2, ... (epochs trained so far);
- COMPLETE with the best epoch's objective value; PRUNED when the pruner stopped the trial or
  its loss diverged (Optuna then keeps the last reported value; a divergence also gets the user
  attribute `failure_reason` = `diverged_reason(...)`); FAIL when training raised, with the
  error's last line as `failure_reason`;
- the user attributes of `trial_measurements`: best and final objective, `best_epoch` (1-based),
  `epochs_run`, timings, seed, model size, each epoch's loss and accuracy (`history`) and the
  code it ran on (`code_version`).

Light on purpose (Optuna only, no Keras), so that `analysis` can import it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState

from study.storage.contract import DIVERGED_PREFIX
from study.storage.question import Question

__all__ = ["HISTORY_METRICS", "best_per_value", "diverged_reason", "epoch_history",
           "epoch_summary", "tell_ended", "trial_measurements"]

# What a trial or rerun keeps of each epoch: enough to see one collapse or diverge.
HISTORY_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


def diverged_reason(loss: float, epoch: int) -> str:
    """The `failure_reason` of a trial whose loss became `loss` at `epoch` (1-based)."""
    return f"{DIVERGED_PREFIX}: loss is {loss} at epoch {epoch}"


def epoch_summary(history: Sequence[dict[str, float]], objective: str, *,
                  maximize: bool = True) -> dict[str, object]:
    """Best and final objective, best epoch (1-based) and epochs run, from per-epoch logs.

    Args:
        history: One dict of metric values per epoch trained, in order.
        objective: The metric to summarise, e.g. "val_accuracy".
        maximize: Whether its best is its highest (False: its lowest, e.g. a loss).

    Returns:
        `best_<objective>`, `final_<objective>`, `best_epoch`, `epochs_run`.
    """
    values = [float(logs[objective]) for logs in history]
    if not values:
        return {"epochs_run": 0}
    sign = 1 if maximize else -1
    best_index = max(range(len(values)), key=lambda index: sign * values[index])
    return {f"best_{objective}": values[best_index], f"final_{objective}": values[-1],
            "best_epoch": best_index + 1, "epochs_run": len(values)}


def epoch_history(history: Sequence[dict[str, float]]) -> list[dict[str, float | None]]:
    """Each epoch's loss and accuracy (training and held-out) as a trial or rerun stores them.

    Rounded to 6 digits to keep the storage small; a non-finite value (a diverged loss) is
    stored as None, which JSON can hold.
    """
    return [{name: (round(float(logs[name]), 6) if math.isfinite(float(logs[name])) else None)
             for name in HISTORY_METRICS if name in logs} for logs in history]


def trial_measurements(history: Sequence[dict[str, float]], objective: str, *,
                       epoch_seconds: Sequence[float], param_count: int, seed: int,
                       compiled_model: str, dtype_policy: str,
                       images_per_epoch: int | None = None,
                       code_version: str | None = None,
                       maximize: bool = True) -> dict[str, object]:
    """The user attributes a trained trial stores: what an analyst needs beside its value.

    Args:
        history: One dict of metric values per epoch trained, in order.
        objective: The metric the search optimises.
        epoch_seconds: Seconds each epoch took.
        param_count: The model's parameters.
        seed: The trial's seed.
        compiled_model: How the model was obtained ("new" or "reused",
            `study.tuning.compiled_models`).
        dtype_policy: The model's Keras dtype policy.
        images_per_epoch: Training images per epoch; gives `images_per_second` when known.
        code_version: The code the trial ran on (`study.engine.setup.code_version`).
        maximize: Whether the objective's best is its highest.

    Returns:
        `epoch_summary(...)`, then train_seconds, param_count, seed, epoch_seconds,
        compiled_model, dtype_policy, `history` (`epoch_history`), with `images_per_epoch`
        images_per_second, and with `code_version` code_version.
    """
    attrs = epoch_summary(history, objective, maximize=maximize)
    train_seconds = sum(epoch_seconds)
    attrs.update(train_seconds=round(train_seconds, 3), param_count=param_count, seed=seed,
                 epoch_seconds=[round(seconds, 3) for seconds in epoch_seconds],
                 compiled_model=compiled_model, dtype_policy=dtype_policy,
                 history=epoch_history(history))
    if code_version is not None:
        attrs["code_version"] = code_version
    if images_per_epoch and train_seconds > 0:
        images = images_per_epoch * attrs["epochs_run"]
        attrs["images_per_second"] = round(images / train_seconds, 1)
    return attrs


def tell_ended(study: optuna.Study, trial: optuna.Trial, *, stopped_early: bool,
               best_value: float | None, error: str | None = None) -> FrozenTrial:
    """Stores how a search trial ended: COMPLETE, PRUNED or FAIL, as the module docstring says.

    Args:
        study: The study the trial was asked from.
        trial: The running trial, its epochs already reported.
        stopped_early: The pruner stopped it, or its loss diverged (then its `failure_reason`
            is already set).
        best_value: The best epoch's objective value; stored when the trial completed.
        error: The error that ended training, if any; the trial FAILs with its last line.

    Returns:
        The stored trial.
    """
    if error is not None:
        lines = error.strip().splitlines()
        trial.set_user_attr("failure_reason", lines[-1] if lines else "")
        return study.tell(trial, state=TrialState.FAIL)
    if stopped_early:
        return study.tell(trial, state=TrialState.PRUNED)
    return study.tell(trial, best_value)


def best_per_value(trials: Iterable[FrozenTrial], question: Question) -> dict[object, FrozenTrial]:
    """The COMPLETE trial with the highest finite value for each value of the question.

    Args:
        trials: Trials of one study (search or confirmation), in any order.
        question: What the study asks (`study.storage.question`).

    Returns:
        Value of `question.param` -> its best trial, in the question's order (reference
        first); values without a COMPLETE trial are left out. Ties go to the lower number.
    """
    best: dict[object, FrozenTrial] = {}
    for trial in sorted(trials, key=lambda trial: trial.number):
        value = trial.params.get(question.param)
        if (trial.state != TrialState.COMPLETE or value not in question.values
                or trial.value is None or not math.isfinite(trial.value)):
            continue
        if value not in best or trial.value > best[value].value:
            best[value] = trial
    return {value: best[value] for value in question.per_value(best)}
