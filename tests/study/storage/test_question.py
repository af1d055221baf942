"""What a study asks: its scientific parameter and values, stored with the search."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import CategoricalDistribution

from study.errors import ConfigError
from study.storage.contract import CONFIG_ATTR
from study.storage.question import (
    DEFAULT_QUESTION,
    QUESTION_ATTR,
    Question,
    record_question,
    rerun_question,
    stored_question,
)

ACTIVATION = Question("activation", ("relu6", "hard_swish"))


def _study(name: str = "s") -> optuna.Study:
    return optuna.create_study(storage=optuna.storages.InMemoryStorage(), study_name=name)


def test_the_reference_comes_first_and_each_other_value_is_compared_with_it():
    three = Question("momentum", (0.9, 0.99, 0.5))

    assert three.reference == 0.9 and three.others == (0.99, 0.5)
    assert three.split_alpha(0.05) == pytest.approx(0.025)  # Bonferroni over 2 comparisons
    assert DEFAULT_QUESTION.split_alpha(0.05) == 0.05
    assert ACTIVATION.label("hard_swish") == "activation=hard_swish"
    assert ACTIVATION.difference_label("hard_swish") == "hard_swish - relu6"
    assert Question.from_record(three.record()) == three


@pytest.mark.parametrize(("param", "values", "message"), [
    ("", ("a", "b"), "`param` must name a hyperparameter, but got ''"),
    ("x", ("a",), "at least two distinct values of `x`, but got ['a']"),
    ("x", ("a", "a"), "at least two distinct values of `x`, but got ['a', 'a']"),
    ("x", ("a", None), "must be strings, numbers or booleans, but got None"),
])
def test_a_malformed_question_is_refused_naming_what_it_got(param, values, message):
    with pytest.raises(ConfigError) as error:
        Question(param, values)
    assert message in str(error.value)


def test_a_value_outside_the_question_is_refused():
    assert ACTIVATION.check_value("relu6") == "relu6"
    with pytest.raises(ConfigError, match=r"`activation` must be one of "
                                          r"\['relu6', 'hard_swish'\], but got 'gelu'\."):
        ACTIVATION.check_value("gelu")


def test_a_study_stored_before_questions_asks_the_default_one():
    assert stored_question(_study()) == DEFAULT_QUESTION
    assert rerun_question(_study()) == DEFAULT_QUESTION


def test_a_new_search_records_its_question_and_a_resumed_one_checks_it():
    study = _study()
    record_question(study, ACTIVATION)
    assert study.user_attrs[QUESTION_ATTR] == {"param": "activation",
                                                "values": ["relu6", "hard_swish"]}
    assert stored_question(study) == ACTIVATION

    record_question(study, ACTIVATION)  # the same question again: nothing to refuse
    with pytest.raises(ConfigError, match=r"must ask the question of the study being resumed"):
        record_question(study, DEFAULT_QUESTION)


def test_an_older_study_with_trials_gets_the_default_question_recorded_and_no_other():
    old = _study()
    old.add_trial(optuna.trial.create_trial(
        params={"bn_position": "before"}, value=0.8,
        distributions={"bn_position": CategoricalDistribution(["before", "after"])}))

    with pytest.raises(ConfigError, match=r"compared \['before', 'after'\] of `bn_position` and "
                                          r"the space asks about \['relu6', 'hard_swish'\]"):
        record_question(old, ACTIVATION)
    record_question(old, DEFAULT_QUESTION)
    assert stored_question(old) == DEFAULT_QUESTION


def test_a_confirmation_reads_the_question_its_record_copied():
    confirm = _study("s/confirm")
    confirm.set_user_attr(CONFIG_ATTR, {QUESTION_ATTR: ACTIVATION.record()})
    assert rerun_question(confirm) == ACTIVATION
