"""Which question a study is asked: the one bnstudy stored, or a categorical parameter the
caller names, with the reference the caller picks.

A bnstudy study answers the question its search stored (`study.storage.question`), so a
caller's `param` or `reference` must agree with it: its reruns compare nothing else. Another
Optuna study is asked about the categorical parameter the caller names, its values as the
parameter's distribution lists them (the first is the reference unless `reference` names
another); without a name it is asked the default question (`bn_position`), when it has that
parameter.
"""

from __future__ import annotations

from collections.abc import Sequence

from optuna.distributions import CategoricalDistribution
from optuna.trial import FrozenTrial

from analysis.reading.errors import AnalysisError
from study.storage.question import DEFAULT_QUESTION, Question, Value

__all__ = ["asked_question", "categorical_params", "with_reference"]

# How a refusal names a parameter that is not categorical, by its distribution.
KINDS = {"FloatDistribution": "a float parameter", "IntDistribution": "an integer parameter"}


def categorical_params(trials: Sequence[FrozenTrial]) -> dict[str, CategoricalDistribution]:
    """Each categorical parameter of the trials, as the latest trial that has it defines it."""
    found: dict[str, CategoricalDistribution] = {}
    for trial in sorted(trials, key=lambda t: t.number):
        found.update({name: distribution for name, distribution in trial.distributions.items()
                      if isinstance(distribution, CategoricalDistribution)})
    return found


def _listed(names: Sequence[str]) -> str:
    return ", ".join(f"`{name}`" for name in names) if names else "none"


def with_reference(question: Question, reference: object | None) -> Question:
    """`question` with `reference` (matched as text, as a command line gives it) first.

    Raises:
        AnalysisError: when `reference` is not one of the question's values.
    """
    if reference is None:
        return question
    matches = [value for value in question.values if str(value) == str(reference)]
    if not matches:
        raise AnalysisError(f"`reference` must be one of the values of `{question.param}` "
                          f"{[str(value) for value in question.values]}, but got {reference!r}.")
    others: tuple[Value, ...] = tuple(v for v in question.values if v != matches[0])
    return Question(question.param, (matches[0], *others))


def _own_question(stored: Question, param: str | None, reference: object | None,
                  study_name: str) -> Question:
    """The stored question, once `param` and `reference` are checked against it."""
    if param is not None and param != stored.param:
        raise AnalysisError(f"`param` must be the parameter study {study_name!r} asks about, "
                          f"`{stored.param}` (bnstudy stored that question and its reruns "
                          f"compare nothing else), but got {param!r}.")
    if reference is not None and str(reference) != str(stored.reference):
        raise AnalysisError(f"`reference` must be the reference of the question study "
                          f"{study_name!r} stored, {stored.reference!r} (its reruns are "
                          f"compared with it), but got {reference!r}.")
    return stored


def asked_question(trials: Sequence[FrozenTrial], *, study_name: str, stored: Question | None,
                   param: str | None = None, reference: object | None = None) -> Question:
    """The question the analysis answers.

    Args:
        trials: The search study's trials.
        study_name: Its name, for the messages.
        stored: The question bnstudy stored (or read as stored) for a study it wrote; None for
            another study.
        param: The categorical parameter the caller asks about; None: the study's own question.
        reference: The value the others are compared with; None: the question's first.

    Returns:
        The question, its reference first.

    Raises:
        AnalysisError: for a `param` that is no categorical parameter of the study (or differs
            from a stored question's), a study without `bn_position` and no `param`, or a
            `reference` that is not one of the values.
    """
    if stored is not None:
        return _own_question(stored, param, reference, study_name)
    categorical = categorical_params(trials)
    if param is None:
        if not any(DEFAULT_QUESTION.param in trial.params for trial in trials):
            raise AnalysisError(
                f"Study {study_name!r} must have trials with the parameter "
                f"`{DEFAULT_QUESTION.param}`, or be told which categorical parameter to compare "
                f"(`param`, --param NAME; it has {_listed(sorted(categorical))}), but none of "
                f"its {len(trials)} trials has `{DEFAULT_QUESTION.param}`.")
        return with_reference(DEFAULT_QUESTION, reference)
    if param not in categorical:
        kind = next((type(trial.distributions[param]).__name__ for trial in trials
                     if param in trial.distributions), None)
        found = KINDS.get(kind, f"a {kind}") if kind else "in none of its trials"
        raise AnalysisError(f"`param` must name a categorical parameter of study {study_name!r} "
                          f"({_listed(sorted(categorical))}), but got {param!r}, which is "
                          f"{found}.")
    return with_reference(Question(param, tuple(categorical[param].choices)), reference)
