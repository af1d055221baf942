"""What a study stores and `analysis` reads: names and values both sides must spell alike.

`study` writes trials, user attributes and the study's configuration into Optuna storage;
`analysis` reads them back. Both import these names from here, so that neither side has a
copy to drift and `study` never needs to import `analysis`. Light on purpose: no Keras, no
pandas.
"""

from __future__ import annotations

__all__ = ["CONFIG_ATTR", "CONFIRM_METRIC", "CONFIRM_SUFFIX", "DEFAULT_CONFIRM_SEEDS",
           "DIVERGED_PREFIX", "PLACEMENTS", "SCIENTIFIC_PARAM", "SEARCH_METRIC"]

SCIENTIFIC_PARAM = "bn_position"  # the hyperparameter the study is about
PLACEMENTS = ("before", "after")  # its values: BN before ReLU6 (the published model), or after
CONFIRM_SUFFIX = "/confirm"  # study NAME's seeded reruns live in the study NAME/confirm
SEARCH_METRIC = "val_accuracy"  # what a search trial's value is (the study's metric name)
CONFIRM_METRIC = "test_accuracy"  # what a confirmation rerun's value is
CONFIG_ATTR = "config"  # study user attribute holding the run's full configuration
# A trial stopped for a non-finite loss is PRUNED with failure_reason "diverged: ...".
DIVERGED_PREFIX = "diverged"
# Reruns per placement in `study.confirm`: the fewest the anytime verdict decides on
# (`study.reruns.decision.MIN_RERUNS_TO_DECIDE`; tests/study/reruns/test_decision.py).
DEFAULT_CONFIRM_SEEDS = 30
