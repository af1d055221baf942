from __future__ import annotations

import dataclasses

import optuna
import pytest

from study.config import ConfigError, preset
from study.contract import CONFIG_ATTR
from study.pruning import SameValuePruner
from study.samplers import TrialSeededSampler
from study.storage import open_storage, open_study


def _config(tmp_path, **overrides):
    return preset("smoke", storage=f"sqlite:///{tmp_path}/s.db", study_name="s", **overrides)


def test_a_new_study_stores_its_configuration(tmp_path):
    config = _config(tmp_path)
    study = open_study(config, open_storage(config.storage), dataclasses.asdict(config))

    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert study.user_attrs[CONFIG_ATTR]["dataset"] == "fashion_mnist"
    assert isinstance(study.sampler, TrialSeededSampler)
    assert isinstance(study.pruner, SameValuePruner)
    assert isinstance(study.pruner.base, optuna.pruners.MedianPruner)


def test_the_same_settings_resume_the_same_study(tmp_path):
    config = _config(tmp_path)
    storage = open_storage(config.storage)
    first = open_study(config, storage, dataclasses.asdict(config))
    first.add_trial(optuna.trial.create_trial(value=0.5))

    again = open_study(dataclasses.replace(config, n_trials=20, sampler="random"), storage,
                       dataclasses.asdict(config))

    assert again._study_id == first._study_id
    assert len(again.trials) == 1


@pytest.mark.parametrize(("key", "stored", "match"), [
    ("dataset", "tfds:cifar10", "`dataset` must match the study being resumed.*'tfds:cifar10'"),
    ("search_space", "other_space", "`search_space` must match.*'other_space'"),
    ("epochs", 9, "`epochs` must match.*epochs=9"),
])
def test_resuming_with_other_experiment_settings_is_refused(tmp_path, key, stored, match):
    config = _config(tmp_path)
    storage = open_storage(config.storage)
    earlier = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    earlier.set_user_attr(CONFIG_ATTR, dataclasses.asdict(config) | {key: stored})

    with pytest.raises(ConfigError, match=match):
        open_study(config, storage, dataclasses.asdict(config))


def test_a_study_not_made_by_bnstudy_is_refused(tmp_path):
    config = _config(tmp_path)
    storage = open_storage(config.storage)
    optuna.create_study(study_name="s", storage=storage, direction="maximize")

    with pytest.raises(ConfigError, match="has no stored configuration"):
        open_study(config, storage, dataclasses.asdict(config))


def test_a_missing_sqlite_file_is_refused_when_it_must_exist(tmp_path):
    url = f"sqlite:///{tmp_path}/missing.db"
    with pytest.raises(ConfigError, match="must name an existing SQLite file.*missing.db"):
        open_storage(url, create=False)
    assert not (tmp_path / "missing.db").exists()


def test_a_sqlite_folder_is_created_for_a_new_study(tmp_path):
    open_storage(f"sqlite:///{tmp_path}/new/folder/s.db")
    assert (tmp_path / "new" / "folder" / "s.db").is_file()


@pytest.mark.parametrize("url", ["nonsense://x", "not a url",
                                 "postgresql://u:p@127.0.0.1:1/db"])
def test_a_malformed_or_unreachable_url_is_one_clear_error(url):
    with pytest.raises(ConfigError, match="`storage` must be a reachable database URL"):
        open_storage(url, create=False)


def test_the_study_names_its_metric_for_the_dashboard(tmp_path):
    config = preset("smoke", storage=f"sqlite:///{tmp_path / 's.db'}", study_name="s")
    storage = open_storage(config.storage)
    unnamed = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    unnamed.set_user_attr(CONFIG_ATTR, dataclasses.asdict(config))  # made before names

    study = open_study(config, storage, dataclasses.asdict(config))

    assert study.metric_names == ["val_accuracy"]
