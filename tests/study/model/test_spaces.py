"""Search spaces found by name: built-in ones, a user's own module, and names that are neither."""

from __future__ import annotations

from pathlib import Path

import keras_tuner
import pytest

from study.errors import ConfigError
from study.model.spaces import (
    SpaceContext,
    architecture_params,
    built_in_spaces,
    check_search_space,
    get_search_space,
    scientific_param,
    space_question,
)
from study.storage.question import DEFAULT_QUESTION, Question

ROOT = Path(__file__).parents[3]
CONTEXT = SpaceContext(input_shape=(8, 8, 1), num_classes=3, steps_per_epoch=2, epochs=3)
OWN_SPACE = '''
import keras

ARCHITECTURE_PARAMS = ("units",)


def build(hp, context):
    model = keras.Sequential([keras.Input(context.input_shape), keras.layers.Flatten(),
                              keras.layers.Dense(hp.Choice("units", [2, 4])),
                              keras.layers.Dense(context.num_classes)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model
'''


def test_the_built_in_space_is_found_by_its_file_name():
    assert built_in_spaces() == ["activation", "bn_placement"]
    assert check_search_space("bn_placement") == "search_spaces.bn_placement"
    assert architecture_params("bn_placement") == ("bn_position", "alpha")


def test_checking_a_name_imports_neither_the_space_nor_keras(loaded_after):
    loaded = loaded_after("from study.config import preset; preset('smoke')",
                          {"keras", "search_spaces.bn_placement"})
    assert loaded == []


def test_a_users_own_module_is_a_space(tmp_path, monkeypatch):
    (tmp_path / "mylab").mkdir()
    (tmp_path / "mylab" / "wide.py").write_text(OWN_SPACE)
    monkeypatch.syspath_prepend(str(tmp_path))

    build = get_search_space("mylab.wide", CONTEXT)
    model = build(keras_tuner.HyperParameters())

    assert model.output_shape == (None, 3)
    assert architecture_params("mylab.wide") == ("units",)


@pytest.mark.parametrize("name", ["nope", "", "bad name", "no_such_package.space", ".relative",
                                  "search_spaces.nope"])
def test_a_space_that_cannot_be_found_is_a_config_error(name):
    with pytest.raises(ConfigError, match=r"`search_space` must be one of "
                       r"\['activation', 'bn_placement'\] "
                       r"or the dotted path of a module defining build\("):
        check_search_space(name)


def test_a_module_without_build_is_refused(tmp_path, monkeypatch):
    (tmp_path / "mylab_empty").mkdir()
    (tmp_path / "mylab_empty" / "space.py").write_text("UNITS = 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(ConfigError, match=r"mylab_empty\.space defines no `build`"):
        get_search_space("mylab_empty.space", CONTEXT)


def test_the_context_counts_steps_of_a_whole_trial():
    assert CONTEXT.total_steps == 6


def test_a_space_says_which_hyperparameter_the_study_is_about(tmp_path, monkeypatch):
    (tmp_path / "mylab_question").mkdir()
    (tmp_path / "mylab_question" / "activation.py").write_text(
        OWN_SPACE + '\nSCIENTIFIC_PARAM = "units"\n')
    (tmp_path / "mylab_question" / "silent.py").write_text(OWN_SPACE)
    (tmp_path / "mylab_question" / "wrong.py").write_text(OWN_SPACE + "\nSCIENTIFIC_PARAM = 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    assert scientific_param("bn_placement") == "bn_position"
    assert scientific_param("mylab_question.activation") == "units"
    assert scientific_param("mylab_question.silent") == "bn_position"  # the study's own question
    with pytest.raises(ConfigError, match=r"`SCIENTIFIC_PARAM` of mylab_question\.wrong must "
                                          r"name a hyperparameter, but got 3\."):
        scientific_param("mylab_question.wrong")



def test_a_module_that_raises_while_imported_is_one_config_error(tmp_path, monkeypatch):
    (tmp_path / "mylab_broken").mkdir()
    (tmp_path / "mylab_broken" / "space.py").write_text("raise ValueError('no GPU found')\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(ConfigError, match=r"`search_space` must import cleanly, but importing "
                                          r"mylab_broken\.space raised ValueError: no GPU found"):
        get_search_space("mylab_broken.space", CONTEXT)


def test_a_space_question_lists_its_choice_values_with_the_reference_first(tmp_path,
                                                                         monkeypatch):
    (tmp_path / "mylab_reference").mkdir()
    (tmp_path / "mylab_reference" / "second.py").write_text(
        OWN_SPACE + '\nSCIENTIFIC_PARAM = "units"\nREFERENCE_VALUE = 16\n')
    (tmp_path / "mylab_reference" / "stray.py").write_text(
        OWN_SPACE + '\nSCIENTIFIC_PARAM = "units"\nREFERENCE_VALUE = 5\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    hp = keras_tuner.HyperParameters()
    hp.Choice("units", [8, 16, 32])
    hp.Float("learning_rate", 1e-3, 1e-1)

    assert space_question("mylab_reference.second", hp) == Question("units", (16, 8, 32))
    with pytest.raises(ConfigError, match=r"`REFERENCE_VALUE` of mylab_reference\.stray must be "
                                          r"one of \[8, 16, 32\], but got 5\."):
        space_question("mylab_reference.stray", hp)
    with pytest.raises(ConfigError, match=r"`SCIENTIFIC_PARAM` of search_spaces\.bn_placement "
                                          r"must name a hp\.Choice of its space, but "
                                          r"'bn_position' is nothing\."):
        space_question("bn_placement", hp)


def test_the_built_in_spaces_ask_about_placement_and_activation():
    placement, activation = keras_tuner.HyperParameters(), keras_tuner.HyperParameters()
    placement.Choice("bn_position", ["before", "after"])
    activation.Choice("activation", ["relu6", "hard_swish"])

    assert space_question("bn_placement", placement) == DEFAULT_QUESTION
    assert space_question("activation", activation) == Question("activation",
                                                                ("relu6", "hard_swish"))
    assert architecture_params("activation") == ("activation", "alpha")
