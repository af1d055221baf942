"""The one set-up of a run: what the search, the reruns and the benchmarks all train with."""

from __future__ import annotations

import dataclasses

import optuna
import pytest

from study.config import preset
from study.engine.setup import prepare_run
from study.tuning.compiled_models import TrialModels
from study.tuning.tuner import OptunaTuner


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    folder = tmp_path_factory.mktemp("setup")
    return preset("smoke", storage=f"sqlite:///{folder / 's.db'}", train_size=64, val_size=32,
                  batch_size=16)


def test_one_setup_holds_the_data_the_held_out_split_and_what_the_space_declares(config):
    search, reruns = prepare_run(config), prepare_run(config, held_out="test")

    assert len(search.splits.train_images) == 64 and len(search.splits.val_images) == 32
    assert search.inputs.train is not None
    assert reruns.inputs.held_out is not search.inputs.held_out  # test, not validation
    assert search.scientific_param == "bn_position"
    assert search.architecture_params == ("bn_position", "alpha")
    assert search.dtype_policy == "float32"
    with pytest.raises(ValueError, match=r"`held_out` must be 'val' or 'test', but got 'train'"):
        prepare_run(config, held_out="train", splits=search.splits)


def test_the_tuner_is_the_one_the_search_runs(config):
    setup = prepare_run(config)
    study = optuna.create_study(direction="maximize")

    tuner = setup.tuner(study)

    assert type(tuner) is OptunaTuner and not tuner.keep_best_weights
    assert tuner.oracle.balanced_param == "bn_position"
    assert isinstance(tuner.hypermodel, TrialModels) and tuner.hypermodel.reuse
    unbalanced = dataclasses.replace(setup, config=dataclasses.replace(config, balance=False))
    other_study = optuna.create_study(direction="maximize")
    assert unbalanced.tuner(other_study).oracle.balanced_param is None


def test_the_models_reuse_compiled_ones_as_the_config_says_unless_told(config):
    setup = prepare_run(config)

    assert setup.models().reuse is True
    assert setup.models(reuse=False).reuse is False
    off = dataclasses.replace(setup, config=dataclasses.replace(config, reuse_compiled=False))
    assert off.models().reuse is False
