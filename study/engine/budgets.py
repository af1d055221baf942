"""A family of one study at several training budgets, in one storage.

A budget is a number of training epochs. The family's first budget keeps the study's name (so
a study already run becomes the family's first member); every longer budget E is the study
`NAME/epochs-E`, with the same settings but its epochs, its own search, selection and
confirmation. A longer budget's search is warm-started: before its first trial, the shorter
budget's best COMPLETE configurations of each value are queued in it (Optuna's
`enqueue_trial`), so it starts from what the shorter search found instead of blind.

Light module level: Optuna is imported where a study is touched.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from study.errors import ConfigError

if TYPE_CHECKING:
    import optuna

    from study.config import SearchConfig

__all__ = ["BUDGET_SEPARATOR", "DEFAULT_WARM_START", "WARM_START_ATTR", "Budget",
           "budget_of", "family_members", "member_folder", "member_name", "parse_budget_list",
           "plan_family",
           "warm_start"]

BUDGET_SEPARATOR = "/epochs-"  # NAME/epochs-16: the member of family NAME at 16 epochs
# Each value's best COMPLETE trials of the shorter budget queued in the longer one's search.
DEFAULT_WARM_START = 2
# The trial user attribute naming where a queued trial's configuration came from.
WARM_START_ATTR = "warm_start_from"
_MEMBER = re.compile(re.escape(BUDGET_SEPARATOR) + r"([1-9][0-9]*)$")


@dataclasses.dataclass(frozen=True)
class Budget:
    """One member of a family: its epochs, study name, search trials and whether it is
    confirmed on the test split."""

    epochs: int
    study_name: str
    n_trials: int
    confirm: bool


def parse_budget_list(text: str, argument: str) -> tuple[int, ...]:
    """Reads "8,16,32" into (8, 16, 32).

    Raises:
        ConfigError: for an empty list or an item that is not a whole number.
    """
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not re.fullmatch(r"[+-]?[0-9]+", item) for item in items):
        raise ConfigError(f"`{argument}` must be whole numbers separated by commas (e.g. "
                          f"8,16,32), but got {text!r}.")
    return tuple(int(item) for item in items)


def member_name(family: str, epochs: int, *, first: bool) -> str:
    """The study name of the family's member at `epochs` (the first keeps the family's)."""
    return family if first else f"{family}{BUDGET_SEPARATOR}{epochs}"


def member_folder(epochs: int, *, first: bool) -> str:
    """Where a member's report goes, relative to the family's folder: the first member's into
    it, member E's into epochs-E (`study.run` and `python -m analysis --budgets` alike)."""
    return "" if first else f"epochs-{epochs}"


def budget_of(study_name: str) -> tuple[str, int | None]:
    """(family, epochs) of a longer budget's study name; (name, None) for any other name."""
    found = _MEMBER.search(study_name)
    if found is None:
        return study_name, None
    return study_name[:found.start()], int(found.group(1))


def plan_family(config: SearchConfig, budgets: Sequence[int], *,
                trials: Sequence[int] | None = None,
                confirm: Sequence[int] | None = None) -> list[Budget]:
    """Checks a budget list against the config and names each member's study.

    Args:
        config: The first member's settings (its epochs are replaced by each budget's).
        budgets: Epochs of each member, increasing.
        trials: Search trials of each member, one per budget (default: `config.n_trials`).
        confirm: The budgets confirmed on the test split (default: every budget).

    Returns:
        One `Budget` per member, in order.

    Raises:
        ConfigError: for a list that is empty, not increasing, not positive, beyond the epoch
            limit or (in a family of several) no longer than the pruner's first judged
            epoch; for a trial list of another
            length or with a count below 1; for a confirmed budget not in the list. Nothing is
            written before these checks.
    """
    from study.config import LIMITS
    from study.tuning.pruning import FIRST_PRUNABLE_EPOCH

    budgets = tuple(budgets)
    if not budgets:
        raise ConfigError("`budgets` must list at least one number of epochs, but got none.")
    for epochs in budgets:
        if not 1 <= epochs <= LIMITS["epochs"]:
            raise ConfigError(f"`budgets` must be epochs between 1 and {LIMITS['epochs']:,}, "
                              f"but got {epochs}.")
        # One budget is a plain run, whose epochs the search takes as they are.
        if len(budgets) > 1 and config.pruner != "none" and epochs <= FIRST_PRUNABLE_EPOCH:
            raise ConfigError(f"`budgets` must be longer than {FIRST_PRUNABLE_EPOCH} epochs, "
                              f"the first epoch the {config.pruner} pruner judges (a shorter "
                              f"search would never be pruned), but got {epochs}; pass "
                              "--pruner none for shorter budgets.")
    for shorter, longer in zip(budgets, budgets[1:], strict=False):
        if longer <= shorter:
            raise ConfigError(f"`budgets` must increase (each member trains longer than the "
                              f"one before, which warm-starts it), but got {shorter} before "
                              f"{longer} in {','.join(map(str, budgets))}.")
    trials = tuple(trials) if trials is not None else (config.n_trials,) * len(budgets)
    if len(trials) != len(budgets):
        raise ConfigError(f"`budget_trials` must give one count per budget ({len(budgets)}), "
                          f"but got {len(trials)}: {','.join(map(str, trials))}.")
    for count in trials:
        if count < 1:
            raise ConfigError(f"`budget_trials` must be positive, but got {count}.")
    confirmed = set(budgets if confirm is None else confirm)
    unknown = sorted(confirmed - set(budgets))
    if unknown:
        raise ConfigError(f"`confirm_budgets` must be budgets of the family "
                          f"({','.join(map(str, budgets))}), but got {unknown[0]}.")
    family = config.resolved_study_name
    return [Budget(epochs, member_name(family, epochs, first=index == 0), count,
                   epochs in confirmed)
            for index, (epochs, count) in enumerate(zip(budgets, trials, strict=True))]


def member_config(config: SearchConfig, budget: Budget) -> SearchConfig:
    """The first member's settings at another budget: its epochs, study name and trials."""
    return dataclasses.replace(config, epochs=budget.epochs, study_name=budget.study_name,
                               n_trials=budget.n_trials).validate()


def family_members(names: Sequence[str], family: str) -> dict[int | None, str]:
    """The family's studies among `names`: {epochs: name} for longer budgets, None: family."""
    members: dict[int | None, str] = {}
    for name in names:
        base, epochs = budget_of(name)
        if name == family or (epochs is not None and base == family):
            members[epochs] = name
    return members


def warm_start(study: optuna.Study, shorter: optuna.Study, *, param: str,
               per_value: int = DEFAULT_WARM_START) -> list[int]:
    """Queues the shorter budget's best COMPLETE trials of each value in a new search.

    Only a study without any trial is warm-started, so a resumed or re-run family queues
    nothing twice. Workers of one family that reach a new search together may both find it
    empty and both queue: then the storage's numbers settle it, as for reruns
    (`study.storage.claims`): each shorter trial's lowest-numbered copy stays queued and every
    later WAITING copy is failed, naming the copy it repeats, before this worker trains any.
    The study records where its queued trials came from (`WARM_START_ATTR`).

    Args:
        study: The longer budget's search, just created.
        shorter: The shorter budget's search.
        param: The scientific parameter; each of its values gets `per_value` trials.
        per_value: Trials queued per value, best first.

    Returns:
        The numbers of the shorter search's trials queued (empty when nothing was), each
        once, whichever worker's copy stays queued.
    """
    from optuna.trial import TrialState

    if study.get_trials(deepcopy=False):
        return []
    complete = [trial for trial in shorter.get_trials(deepcopy=False,
                                                      states=(TrialState.COMPLETE,))
                if trial.value is not None and param in trial.params]
    values = sorted({trial.params[param] for trial in complete}, key=str)
    queued = []
    for value in values:
        best = sorted((trial for trial in complete if trial.params[param] == value),
                      key=lambda trial: -trial.value)[:per_value]
        for trial in best:
            study.enqueue_trial(
                trial.params,
                user_attrs={WARM_START_ATTR: f"{shorter.study_name}#{trial.number}"})
            queued.append(trial.number)
    study.set_user_attr(WARM_START_ATTR, {"study": shorter.study_name, "trials": queued})
    _drop_repeated_copies(study)
    return queued


def _drop_repeated_copies(study: optuna.Study) -> None:
    """Fails each queued warm-start trial that repeats a lower-numbered one of the same
    shorter trial (another worker's copy)."""
    from optuna.trial import TrialState

    from study.storage.claims import drop_queued

    first: dict[str, int] = {}
    repeated = []
    for trial in sorted(study.get_trials(deepcopy=False), key=lambda trial: trial.number):
        source = trial.user_attrs.get(WARM_START_ATTR)
        if source is None:
            continue
        if source not in first:
            first[source] = trial.number
        elif trial.state == TrialState.WAITING:
            repeated.append((trial, first[source]))
    for trial, kept in repeated:
        drop_queued(study, [trial], f"a second warm-start copy of "
                    f"{trial.user_attrs[WARM_START_ATTR]} (trial {kept} is the one queued), "
                    "queued by another worker at once")
