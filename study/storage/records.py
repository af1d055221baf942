"""What a study records about itself: the `config` user attribute of a search and of its reruns.

A search study records its settings and its data when it is created (`search_record`); the
study `NAME/confirm` records what its reruns retrain and how (`confirmation_record`). Both are
read back with `stored_record`. Trials and reruns themselves are described in `trials` and
`reruns`. Light on purpose: no Keras.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from study.errors import ConfigError
from study.storage.contract import CONFIG_ATTR
from study.storage.opener import mask_password

if TYPE_CHECKING:
    import optuna

__all__ = ["confirmation_record", "search_record", "stored_record"]


def search_record(settings: Mapping[str, object], *, study_name: str, num_classes: int,
                  train_images: int, val_images: int, stored_image_shape: Sequence[int],
                  dtype_policy: str, versions: Mapping[str, str]) -> dict[str, object]:
    """What a new search study stores as its `config` user attribute: settings and data.

    The storage URL is stored with its password masked, so that neither the study nor the
    reports made from it show one; `study.confirm` takes the live URL from its command line.

    Args:
        settings: Every field of the run's `SearchConfig`.
        study_name: The study's name in the storage.
        num_classes: Classes of the dataset.
        train_images: Training images.
        val_images: Validation images.
        stored_image_shape: What crosses to the device: uint8 images of this shape, resized
            in the model.
        dtype_policy: The Keras dtype policy of every model.
        versions: The libraries' versions (`study.engine.setup.library_versions`).
    """
    return dict(settings) | {
        "storage": mask_password(str(settings["storage"])), "study_name": study_name,
        "num_classes": num_classes, "train_images": train_images, "val_images": val_images,
        "stored_image_shape": list(stored_image_shape), "dtype_policy": dtype_policy,
        "versions": dict(versions)}


def confirmation_record(stored: Mapping[str, object] | None, *, search_study: str,
                        seed_base: int, seeds: Sequence[int], source_trials: Mapping[str, int],
                        train_images: int, test_images: int, epochs: int, allocation: str,
                        stop: Mapping[str, object], versions: Mapping[str, str]
                        ) -> dict[str, object]:
    """What the study `NAME/confirm` stores as its `config` user attribute.

    Args:
        stored: Its record so far (None for a new study): the seeds asked for accumulate over
            the runs that resumed it.
        search_study: The search study whose best trials are rerun.
        seed_base: The first rerun seed.
        seeds: The seeds this run may use.
        source_trials: Placement -> the search trial its reruns retrain.
        train_images: Training images.
        test_images: Test images every rerun is scored on.
        epochs: Epochs per rerun.
        allocation: Which placement reruns next (`study.reruns.allocation`).
        stop: The stop rule (`study.reruns.stopping.StopRule.record`): `stop`,
            `stop_at_half_width`, `margin`, `alpha`, `minimum`.
        versions: The libraries' versions.
    """
    earlier = stored.get("seeds", []) if isinstance(stored, Mapping) else []
    return {"search_study": search_study, "seed_base": seed_base,
            "seeds": sorted(set(earlier) | set(seeds)), "source_trials": dict(source_trials),
            "train_images": train_images, "test_images": test_images, "epochs": epochs,
            "allocation": allocation, **stop, "versions": dict(versions)}


def stored_record(study: optuna.Study) -> dict[str, object]:
    """The study's `config` record, as `search_record` or `confirmation_record` wrote it.

    Raises:
        ConfigError: when the study has none (it was not made by bnstudy).
    """
    record = study.user_attrs.get(CONFIG_ATTR)
    if not isinstance(record, dict):
        raise ConfigError(f"`study_name` must name a study made by bnstudy, but "
                          f"{study.study_name!r} has no stored configuration.")
    return record
