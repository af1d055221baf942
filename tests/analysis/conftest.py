"""One sqlite file of synthetic studies for the analysis tests (`analysis.calibration.simulate`),
and one of plain Optuna studies that bnstudy did not write (`plain_study`, `plain_db`).

Creating an Optuna sqlite schema and committing trials one by one takes seconds, so the file is
built once per session and each test gets its own copy.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution

from analysis.calibration.family import SyntheticMember, write_synthetic_family
from analysis.calibration.simulate import write_synthetic_study
from analysis.family_analysis import FamilyAnalysis, analyze_family
from analysis.study_analysis import Analysis, analyze

optuna.logging.set_verbosity(optuna.logging.WARNING)

SEARCH_ONLY = "bn/placement"  # with a "/" on purpose: the report folder must sanitize it
CONFIRMED = "confirmed"  # 30 reruns per placement, "after" truly better by 1 pp
ONE_RERUN = "one_rerun"  # a confirmation study too small to use
NO_BN = "no_bn"  # no `bn_position` parameter
LOPSIDED = "lopsided"  # a single COMPLETE "after" trial
# Two families of two budgets (8 and 16 epochs). In SHIFTING the verdict changes with the budget
# ('matters' at 8, 'equivalent' at 16), its 8-epoch reruns ran from a dirty tree and were
# stored before validation was scored every epoch, and its picks still rise by 2-3 pp. In
# STEADY it stays 'matters', every rerun is clean and the picks rise by 0.2 pp: a plateau.
SHIFTING = (SyntheticMember(8, -0.02, (0.86, 0.85), pairs=30, code_version="0a1b2c3d4e5f+dirty",
                            validation_curves=False),
            SyntheticMember(16, 0.0, (0.88, 0.879), pairs=30))
STEADY = (SyntheticMember(8, -0.02, (0.86, 0.85), pairs=30),
          SyntheticMember(16, -0.02, (0.862, 0.852), pairs=30))
FAMILY = "fam"  # SHIFTING's name in `family_db`, beside the lone study ALONE
ALONE = "alone"
# The keys verdict.json starts with, in this order: what other tools may rely on.
VERDICT_CONTRACT = ("verdict", "difference", "ci_low", "ci_high", "margin", "source",
                    "n_per_position")


def _write_unusable(storage: optuna.storages.BaseStorage) -> None:
    other = optuna.create_study(storage=storage, study_name=NO_BN, direction="maximize")
    other.add_trial(
        optuna.trial.create_trial(
            value=0.5, params={"x": 0.1}, distributions={"x": FloatDistribution(0, 1)}
        )
    )
    lopsided = optuna.create_study(storage=storage, study_name=LOPSIDED, direction="maximize")
    placement = {"bn_position": CategoricalDistribution(["before", "after"])}
    for value, position in [(0.9, "before"), (0.8, "before"), (0.85, "after")]:
        lopsided.add_trial(
            optuna.trial.create_trial(
                value=value, params={"bn_position": position}, distributions=placement
            )
        )


@pytest.fixture
def verdict_contract() -> list[str]:
    """The keys verdict.json must start with, in order."""
    return list(VERDICT_CONTRACT)


@pytest.fixture(scope="session")
def studies_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared, never modified, sqlite file."""

    def write(storage: optuna.storages.BaseStorage) -> None:
        write_synthetic_study(storage, SEARCH_ONLY, effect=0.0, n_trials=32, seed=3)
        write_synthetic_study(storage, CONFIRMED, effect=0.01, n_trials=32, n_confirm_seeds=30,
                              seed=4)
        write_synthetic_study(storage, ONE_RERUN, effect=0.0, n_trials=24, n_confirm_seeds=1,
                              seed=5)
        _write_unusable(storage)

    return _sqlite_file(tmp_path_factory.mktemp("studies") / "studies.db", write)


def _sqlite_file(path: Path, write: Callable[[optuna.storages.BaseStorage], None]) -> Path:
    """A new sqlite file at `path` with what `write` puts in its storage, closed."""
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    write(storage)
    storage.remove_session()
    storage.engine.dispose()
    return path


def _own_copy(path: Path, tmp_path: Path) -> str:
    """A sqlite URL to a test's own copy of the file at `path`."""
    copy = tmp_path / path.name
    shutil.copyfile(path, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def storage_url(studies_db: Path, tmp_path: Path) -> str:
    """A sqlite URL to this test's own copy of the studies."""
    return _own_copy(studies_db, tmp_path)


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    """A confirmed synthetic study analysed in memory (4 reruns per placement)."""
    storage = optuna.storages.InMemoryStorage()
    write_synthetic_study(storage, "s", effect=0.01, n_trials=24, n_confirm_seeds=4, seed=2)
    # An in-memory storage has no URL: the report's commands name the one given here.
    return dataclasses.replace(analyze(storage, "s", importance_seeds=(0,), n_trees=8),
                               storage_url="sqlite:///x.db")


@pytest.fixture(scope="session")
def families() -> dict[str, FamilyAnalysis]:
    """SHIFTING and STEADY analysed in memory, by name ("shifting", "steady")."""
    analysed = {}
    for name, members in (("shifting", SHIFTING), ("steady", STEADY)):
        storage = optuna.storages.InMemoryStorage()
        write_synthetic_family(storage, name, members)
        analysed[name] = analyze_family(storage, name, importance_seeds=(0,), n_trees=8)
    return analysed


@pytest.fixture(scope="session")
def family_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sqlite file holding SHIFTING as FAMILY, and a study ALONE without longer members."""

    def write(storage: optuna.storages.BaseStorage) -> None:
        write_synthetic_family(storage, FAMILY, SHIFTING)
        write_synthetic_study(storage, ALONE, effect=0.0, n_trials=12, seed=9)

    return _sqlite_file(tmp_path_factory.mktemp("family") / "family.db", write)


SGD_PENALTY = 0.5  # how much worse "sgd" is than "adam" in `toy_loss`, in its units (nats)
PLAIN_TRIALS = 40
LOSS, SCORE = "loss", "score"  # `plain_db`'s studies: toy_loss minimised, -toy_loss maximised


def toy_loss(trial: optuna.Trial) -> float:
    """A cheap objective of a categorical and two numeric nuisance parameters, nothing trained:
    a loss of about 2-6 nats, lowest at learning_rate 0.01 and width 32, "sgd" SGD_PENALTY
    worse than "adam", with noise fixed by the trial's number."""
    optimizer = trial.suggest_categorical("optimizer", ["sgd", "adam"])
    learning_rate = trial.suggest_float("learning_rate", 1e-4, 1.0, log=True)
    width = trial.suggest_int("width", 8, 64)
    noise = 0.05 * math.sin(12.9898 * trial.number)  # deterministic, about uniform
    return (2.0 + (math.log10(learning_rate) + 2) ** 2 + 0.01 * abs(width - 32)
            + (SGD_PENALTY if optimizer == "sgd" else 0.0) + noise)


@pytest.fixture(scope="session")
def plain_study() -> Callable[..., optuna.Study]:
    """`plain_study(direction, storage=None, name=None)`: a study written as an Optuna user
    writes one, `create_study` and `optimize`, of `toy_loss` (negated when maximised)."""

    def make(direction: str, storage: object = None, name: str | None = None) -> optuna.Study:
        study = optuna.create_study(direction=direction, storage=storage, study_name=name,
                                    sampler=optuna.samplers.RandomSampler(seed=0))
        sign = 1.0 if direction == "minimize" else -1.0
        study.optimize(lambda trial: sign * toy_loss(trial), n_trials=PLAIN_TRIALS)
        return study

    return make


@pytest.fixture(scope="session")
def plain_db(tmp_path_factory: pytest.TempPathFactory,
             plain_study: Callable[..., optuna.Study]) -> Path:
    """A sqlite file of two plain studies of `toy_loss`: LOSS minimised, SCORE maximised."""

    def write(storage: optuna.storages.BaseStorage) -> None:
        plain_study("minimize", storage, LOSS)
        plain_study("maximize", storage, SCORE)

    return _sqlite_file(tmp_path_factory.mktemp("plain") / "plain.db", write)


@pytest.fixture
def plain_url(plain_db: Path, tmp_path: Path) -> str:
    """A sqlite URL to this test's own copy of `plain_db`."""
    return _own_copy(plain_db, tmp_path)


@pytest.fixture
def family_url(family_db: Path, tmp_path: Path) -> str:
    """A sqlite URL to this test's own copy of `family_db`."""
    return _own_copy(family_db, tmp_path)
