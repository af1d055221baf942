"""Which question is asked of a study (`analysis.reading.questions`), and every refusal of
`load_studies` for a study or question it cannot read: one exception naming the rule and the
value."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution

from analysis.reading.errors import AnalysisError
from analysis.reading.studies import load_question, load_studies
from study.errors import ConfigError
from study.storage.contract import CONFIG_ATTR
from study.storage.question import DEFAULT_QUESTION, Question

SPACE = {"optimizer": CategoricalDistribution(["sgd", "adam", "rmsprop"]),
         "learning_rate": FloatDistribution(1e-4, 1.0, log=True)}


def _study(name: str = "mine", *, direction: str = "minimize", values=(2.5, 2.1, 3.0, 2.2),
           space: dict | None = None, storage=None, **create: object) -> optuna.Study:
    """A study of the kind any Optuna user writes: trials of SPACE, no bnstudy records."""
    study = optuna.create_study(study_name=name, storage=storage, direction=direction, **create)
    space = SPACE if space is None else space
    for number, value in enumerate(values):
        params = {name: (d.choices[number % len(d.choices)]
                         if isinstance(d, CategoricalDistribution) else d.low)
                  for name, d in space.items()}
        study.add_trial(optuna.trial.create_trial(value=value, params=params,
                                                  distributions=space))
    return study


def test_a_named_parameter_is_asked_with_its_choices_the_first_the_reference():
    assert load_question(_study(), param="optimizer") == Question(
        "optimizer", ("sgd", "adam", "rmsprop"))
    assert load_question(_study(), param="optimizer", reference="adam") == Question(
        "optimizer", ("adam", "sgd", "rmsprop"))


def test_a_study_bnstudy_wrote_is_asked_its_stored_question():
    study = _study(space={"bn_position": CategoricalDistribution(["before", "after"])},
                   direction="maximize", values=(0.8, 0.9))
    study.set_user_attr(CONFIG_ATTR, {"dataset": "synthetic"})

    assert load_question(study) == DEFAULT_QUESTION
    assert load_question(study, param="bn_position", reference="before") == DEFAULT_QUESTION
    with pytest.raises(AnalysisError, match=r"`param` must be the parameter study 'mine' asks "
                                            r"about, `bn_position` .* but got 'alpha'"):
        load_question(study, param="alpha")
    with pytest.raises(AnalysisError, match=r"`reference` must be the reference .* 'before' "
                                            r".* but got 'after'"):
        load_question(study, reference="after")
    with pytest.raises(ConfigError, match=r"`units` must be left out for 'mine', which bnstudy "
                                          r"wrote .* but got 'ms'"):
        load_studies(study, units="ms")


REFUSED = [
    # (what load_studies is given, the exception, what its message says)
    ({}, AnalysisError, r"must have trials with the parameter `bn_position`, or be told which "
                        r"categorical parameter to compare \(`param`, --param NAME; it has "
                        r"`optimizer`\)"),
    ({"param": "learning_rate"}, AnalysisError,
     r"`param` must name a categorical parameter of study 'mine' \(`optimizer`\), but got "
     r"'learning_rate', which is a float parameter"),
    ({"param": "nope"}, AnalysisError, r"but got 'nope', which is in none of its trials"),
    ({"param": "optimizer", "reference": "adamw"}, AnalysisError,
     r"`reference` must be one of the values of `optimizer` \['sgd', 'adam', 'rmsprop'\], but "
     r"got 'adamw'"),
    ({"param": "optimizer"}, AnalysisError, r"`compare` must be one of \['adam', 'rmsprop'\]"),
    ({"param": "optimizer", "compare": "adam", "study_name": "other"}, AnalysisError,
     r"`study_name` must be the given study's own name, 'mine', or left out, but got 'other'"),
]


@pytest.mark.parametrize(("given", "error", "message"), REFUSED)
def test_a_question_that_does_not_fit_is_refused(given, error, message):
    with pytest.raises(error, match=message):
        load_studies(_study(), **given)


def test_a_storage_needs_the_study_name():
    storage = optuna.storages.InMemoryStorage()
    _study(storage=storage)

    with pytest.raises(AnalysisError, match=r"`study_name` must name the study in the storage "
                                            r".* but got None"):
        load_studies(storage, param="optimizer", compare="adam")
    assert load_studies(storage, "mine", "adam", param="optimizer").param == "optimizer"


def test_a_study_of_several_objectives_is_refused():
    study = optuna.create_study(study_name="pareto", directions=["minimize", "maximize"])
    study.add_trial(optuna.trial.create_trial(values=[1.0, 2.0], params={"x": "a"},
                                              distributions={"x": CategoricalDistribution("ab")}))

    with pytest.raises(AnalysisError, match=r"must have one objective to compare values on, but "
                                            r"has 2 \(MINIMIZE, MAXIMIZE\)"):
        load_studies(study, param="x")


def test_losses_read_as_accuracy_fractions_are_refused():
    space = {"bn_position": CategoricalDistribution(["before", "after"])}
    losses = _study(space=space, values=(0.4, 2.3))  # bn_position, no param: read as accuracy

    with pytest.raises(AnalysisError, match=r"must be fractions in \[0, 1\] to be read as "
                                            r"accuracy \(in pp\), but trial 1 has 2.3; name"):
        load_studies(losses)
    assert load_studies(losses, units="nats").objective.units == "nats"


def test_a_categorical_of_none_or_one_choice_cannot_be_compared():
    with pytest.raises(ConfigError, match="must be strings, numbers or booleans, but got None"):
        load_question(_study(space={"norm": CategoricalDistribution([None, "bn"])}),
                      param="norm")
    with pytest.raises(ConfigError, match="at least two distinct values of `norm`"):
        load_question(_study(space={"norm": CategoricalDistribution(["bn"])}), param="norm")
