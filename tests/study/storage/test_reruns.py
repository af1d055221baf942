"""Names and seeds of confirmation reruns; what a rerun stores is checked in test_trials."""

from __future__ import annotations

import pytest

from study.config import ConfigError
from study.storage.contract import DEFAULT_CONFIRM_SEEDS
from study.storage.reruns import CONFIRM_SEED_BASE, confirm_study_name, rerun_seeds


def test_names_and_seeds():
    assert confirm_study_name("bn") == "bn/confirm"
    assert rerun_seeds(3) == [CONFIRM_SEED_BASE, CONFIRM_SEED_BASE + 1, CONFIRM_SEED_BASE + 2]
    assert DEFAULT_CONFIRM_SEEDS >= 1
    with pytest.raises(ConfigError, match=r"`seeds` must be positive, but got 0\."):
        rerun_seeds(0)
