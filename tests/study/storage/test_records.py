"""What a study records about itself: written once, read back, refused when absent."""

from __future__ import annotations

import dataclasses

import optuna
import pytest

from study.config import ConfigError, config_from_record, preset
from study.storage.records import confirmation_record, search_record, stored_record

VERSIONS = {"python": "3.11.7", "optuna": "5.0.0"}


def test_a_search_record_is_read_back_as_the_same_settings():
    config = preset("cpu", storage="sqlite:///studies/bnstudy.db", study_name="fmnist")
    record = search_record(dataclasses.asdict(config), study_name="fmnist", num_classes=10,
                           train_images=20_000, val_images=5_000,
                           stored_image_shape=(28, 28, 1), dtype_policy="float32",
                           versions=VERSIONS)

    assert record["stored_image_shape"] == [28, 28, 1] and record["versions"] == VERSIONS
    assert config_from_record(record, storage=config.storage, study_name="fmnist") == config


def test_a_confirmation_record_keeps_every_seed_asked_for_over_resumed_runs():
    first = confirmation_record(
        None, search_study="s", seed_base=1000, seeds=[1000, 1001],
        source_trials={"before": 2, "after": 13}, train_images=100, test_images=50, epochs=2,
        allocation="equal", stop={"stop": "all", "stop_at_half_width": None},
        versions=VERSIONS)
    again = confirmation_record(
        first, search_study="s", seed_base=1000, seeds=[1000, 1001, 1002, 1003],
        source_trials={"before": 2, "after": 13}, train_images=100, test_images=50, epochs=2,
        allocation="by-spread",
        stop={"stop": "half-width", "stop_at_half_width": 0.005}, versions=VERSIONS)

    assert first["seeds"] == [1000, 1001]
    assert again["seeds"] == [1000, 1001, 1002, 1003]
    assert again["allocation"] == "by-spread" and again["stop_at_half_width"] == 0.005


def test_a_study_without_a_record_was_not_made_by_bnstudy():
    study = optuna.create_study(study_name="foreign")

    with pytest.raises(ConfigError, match=r"`study_name` must name a study made by bnstudy, but "
                                          r"'foreign' has no stored configuration\."):
        stored_record(study)
    study.set_user_attr("config", {"dataset": "fashion_mnist"})
    assert stored_record(study) == {"dataset": "fashion_mnist"}
