"""Dtype policies from --precision: names, "auto" on a CPU, and the CLI shorthand."""

from __future__ import annotations

import pytest

from study.config import ConfigError, preset
from study.model.precision import PRECISIONS, dtype_policy_for
from study.search import parse_config


@pytest.mark.parametrize("precision", ["float32", "mixed_float16", "mixed_bfloat16"])
def test_a_named_policy_is_taken_as_it_is(precision):
    assert dtype_policy_for(precision) == precision


def test_auto_is_float32_where_there_is_no_bfloat16_accelerator():
    assert dtype_policy_for("auto") == "float32"  # the test machines have CPUs only


def test_an_unknown_precision_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"`precision` must be one of .*but got 'fp8'\."):
        dtype_policy_for("fp8")
    with pytest.raises(ConfigError, match=r"`precision` must be one of .*but got 'fp8'\."):
        preset("smoke", precision="fp8")


def test_the_gpu_preset_starts_offline_on_fashion_mnist_with_auto_precision():
    config = preset("gpu")
    assert (config.dataset, config.image_size, config.precision) == ("fashion_mnist", 224,
                                                                     "auto")
    assert config.precision in PRECISIONS and "precision" not in config.science()


def test_mixed_precision_is_shorthand_for_mixed_float16_and_must_not_contradict():
    assert parse_config(["--mixed-precision"]).precision == "mixed_float16"
    assert parse_config(["--no-mixed-precision", "--preset", "gpu"]).precision == "float32"
    assert parse_config(["--precision", "mixed_bfloat16"]).precision == "mixed_bfloat16"
    with pytest.raises(ConfigError, match=r"`--mixed-precision` means --precision "
                                          r"mixed_float16, but got --precision float32"):
        parse_config(["--mixed-precision", "--precision", "float32"])


def test_a_study_stored_before_precision_existed_confirms_in_its_mixed_float16():
    import dataclasses

    import optuna

    from study.config import config_from_record

    study = optuna.create_study(study_name="old")
    record = dataclasses.asdict(preset("smoke"))
    del record["precision"]
    study.set_user_attr("config", record | {"mixed_precision": True})

    assert config_from_record(study.user_attrs["config"], storage="sqlite:///elsewhere.db",
                              study_name="old").precision == "mixed_float16"
    study.set_user_attr("config", record | {"mixed_precision": False})
    assert config_from_record(study.user_attrs["config"], storage="sqlite:///elsewhere.db",
                              study_name="old").precision == "float32"
