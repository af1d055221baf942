"""What a study stores and `analysis` reads: names and values both sides must spell alike.

`study` writes trials, user attributes and the study's configuration into Optuna storage;
`analysis` reads them back. Both import these names from here, so that neither side has a
copy to drift and `study` never needs to import `analysis`. Light on purpose: no Keras, no
pandas.
"""

from __future__ import annotations

__all__ = ["CONFIG_ATTR", "CONFIRM_METRIC", "CONFIRM_SUFFIX", "DEFAULT_CONFIRM_SEEDS",
           "DEFAULT_SELECT_SEEDS", "DEFAULT_TOP_K", "DIVERGED_PREFIX", "PLACEMENTS",
           "SCIENTIFIC_PARAM", "SEARCH_METRIC", "SELECT_SUFFIX", "SOURCE_PARAMS_ATTR"]

SCIENTIFIC_PARAM = "bn_position"  # the hyperparameter the study is about
PLACEMENTS = ("before", "after")  # its values: BN before ReLU6 (the published model), or after
CONFIRM_SUFFIX = "/confirm"  # study NAME's seeded reruns live in the study NAME/confirm
SELECT_SUFFIX = "/select"  # and the selection's reruns (validation only) in NAME/select
SEARCH_METRIC = "val_accuracy"  # what a search trial's value is (the study's metric name)
CONFIRM_METRIC = "test_accuracy"  # what a confirmation rerun's value is
CONFIG_ATTR = "config"  # study user attribute holding the run's full configuration
# A rerun stores only the scientific parameter as a parameter (so the dashboard's importance
# panel of a rerun study shows it alone); the rest of its configuration, fixed per source
# trial, is this user attribute.
SOURCE_PARAMS_ATTR = "source_params"
# A trial stopped for a non-finite loss is PRUNED with failure_reason "diverged: ...".
DIVERGED_PREFIX = "diverged"
# Reruns per placement in `study.confirm`: the fewest the anytime verdict decides on
# (`study.stats.decision.MIN_RERUNS_TO_DECIDE`; tests/study/stats/test_decision.py).
DEFAULT_CONFIRM_SEEDS = 30
# `study.select`: each placement's top DEFAULT_TOP_K search trials, DEFAULT_SELECT_SEEDS seeds
# each, on the validation split.
DEFAULT_TOP_K = 3
DEFAULT_SELECT_SEEDS = 3
