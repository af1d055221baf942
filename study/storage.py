"""Opening Optuna storage and creating or resuming the study a search runs in."""

from __future__ import annotations

import warnings
from pathlib import Path

import optuna

from study.config import ConfigError, SearchConfig
from study.contract import CONFIG_ATTR, SCIENTIFIC_PARAM, SEARCH_METRIC
from study.heartbeat import stale_callback
from study.pruning import make_pruner
from study.samplers import make_sampler

__all__ = ["name_metric", "open_storage", "open_study"]

_SQLITE_PREFIX = "sqlite:///"


def open_storage(url: str, *, create: bool = True, heartbeat_interval: int = 30,
                 grace_period: int = 120) -> optuna.storages.BaseStorage:
    """Connects to an Optuna RDB storage, with trial heartbeats enabled.

    Args:
        url: A SQLAlchemy URL: `sqlite:///path.db` (embedded, the default) or
            `postgresql://user:password@host/db` for many machines.
        create: Whether a missing SQLite file may be created (with its folder).
        heartbeat_interval: Seconds between a running trial's heartbeats.
        grace_period: Seconds without a heartbeat after which a running trial is taken for
            dead (its worker was killed), failed, and its parameters queued again. Optuna's
            recommended ratio; long enough for a busy machine to miss a beat or two.

    Returns:
        The storage.

    Raises:
        ConfigError: when the URL is malformed, the database unreachable, or (with
            `create=False`) a SQLite file does not exist.
    """
    if url.startswith(_SQLITE_PREFIX):
        path = Path(url[len(_SQLITE_PREFIX):])
        if not create and not path.is_file():
            raise ConfigError(f"`storage` must name an existing SQLite file, but {url!r} "
                              "does not exist.")
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
    # SQLite: wait for a lock instead of failing at once when several workers write.
    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat_interval,
                grace_period=grace_period, heartbeat_stale_trial_callback=stale_callback())
    except Exception as error:  # SQLAlchemy raises many types for bad or unreachable URLs
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(f"`storage` must be a reachable database URL such as "
                          f"sqlite:///studies/bnstudy.db, but got {url!r} ({reason}).") from None


def open_study(config: SearchConfig, storage: optuna.storages.BaseStorage,
               record: dict[str, object]) -> optuna.Study:
    """Creates the study, or resumes it when it exists with the same experiment settings.

    Args:
        config: The run's settings; sampler and pruner are built from it.
        storage: Where the study lives.
        record: What to store as the study's `config` user attribute on creation.

    Returns:
        The study, maximizing the trial's best validation accuracy.

    Raises:
        ConfigError: when a study of that name exists with other experiment settings.
    """
    name = config.resolved_study_name
    sampler = make_sampler(config.sampler, config.seed)
    pruner = make_pruner(config.pruner, config.epochs,
                         per_value_of=SCIENTIFIC_PARAM if config.balance else None)
    try:
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler,
                                  pruner=pruner)
    except KeyError:
        study = optuna.create_study(study_name=name, storage=storage, sampler=sampler,
                                    pruner=pruner, direction="maximize", load_if_exists=True)
        if CONFIG_ATTR not in study.user_attrs:
            study.set_user_attr(CONFIG_ATTR, record)
    check_resumable(study, config)
    name_metric(study, SEARCH_METRIC)
    return study


def name_metric(study: optuna.Study, name: str) -> None:
    """Names what a study's trial values are, so that optuna-dashboard labels its axes.

    Studies made before names were stored get theirs when resumed.
    """
    if study.metric_names != [name]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([name])


def check_resumable(study: optuna.Study, config: SearchConfig) -> None:
    """Refuses to add trials to a study that was run with other experiment settings.

    Raises:
        ConfigError: naming the first differing setting, the stored and the given value.
    """
    stored = study.user_attrs.get(CONFIG_ATTR)
    if stored is None:
        raise ConfigError(f"`study_name` must name a study made by bnstudy, but "
                          f"{study.study_name!r} has no stored configuration.")
    for key, value in config.science().items():
        if stored.get(key) != value:
            raise ConfigError(
                f"`{key}` must match the study being resumed, but {study.study_name!r} was "
                f"run with {key}={stored.get(key)!r} and this run asks for {value!r}; "
                "use another --study-name for a new study.")
