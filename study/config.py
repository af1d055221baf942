"""One frozen dataclass per search run, and the named presets that are instances of it."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from study.data.memory import check_fits_in_memory
from study.errors import ConfigError
from study.model.precision import PRECISIONS
from study.model.preprocessing import MIN_IMAGE_SIZE
from study.model.spaces import check_search_space
from study.storage.contract import CONFIRM_SUFFIX, SELECT_SUFFIX
from study.tuning.pruning import PRUNERS
from study.tuning.samplers import SAMPLERS

__all__ = ["DEFAULT_STORAGE", "PRESETS", "PRUNERS", "SAMPLERS", "ConfigError", "SearchConfig",
           "check_study_name", "config_from_record", "preset"]

DEFAULT_STORAGE = "sqlite:///studies/bnstudy.db"
MAX_STUDY_NAME = 200  # characters: `analysis` writes reports/<name>, and a file name holds 255
# Upper limits of the counts and sizes, far beyond any run that could finish, checked before
# anything is loaded or written so that a typo is one line instead of a crash hours later.
LIMITS = {"n_trials": 100_000, "epochs": 10_000, "batch_size": 65_536,
          "train_size": 100_000_000, "val_size": 100_000_000, "image_size": 4096}
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class SearchConfig:
    """Everything that defines a search; stored with the study so it can be resumed and read.

    The defaults are the built-in study that `python -m study.search` runs with no arguments:
    small enough to finish in a few minutes on a 2-core CPU, large enough that validation
    accuracy separates good and bad trials.
    """

    preset: str = "smoke"
    dataset: str = "fashion_mnist"
    data_dir: str | None = None
    storage: str = DEFAULT_STORAGE
    study_name: str | None = None  # None: "bnstudy-<preset>", one study per preset
    search_space: str = "bn_placement"
    n_trials: int = 8  # four per placement: enough for a provisional comparison
    timeout: float | None = None  # seconds after which no new trial starts
    epochs: int = 4  # MobileNetV2 from scratch needs ~100 steps before validation beats chance
    batch_size: int = 128  # near the CPU throughput optimum measured for 32x32 inputs
    image_size: int = 32  # the smallest input MobileNetV2 takes; Fashion-MNIST is 28x28
    train_size: int | None = 4096  # None: every training image left after the validation split
    val_size: int | None = 1024  # None: 10% of the training images
    augment: bool = False  # flips and shifts only pay off over many epochs
    sampler: str = "tpe"
    pruner: str = "median"
    seed: int = 0
    balance: bool = True  # equal share of trials for each `bn_position` value
    jit_compile: bool | str = "auto"  # "auto": Keras turns XLA on for GPUs and off on CPUs
    deterministic: bool = False  # deterministic TF ops: reproducible trials, a little slower
    # Keras dtype policy, or "auto": mixed_bfloat16 on GPUs that compute it natively, float32
    # elsewhere (`study.model.precision`). Mixed policies keep float32 weights and logits.
    precision: str = "float32"
    # Trials of an architecture already compiled in this process reuse that model, re-
    # initialised: a speed setting, not part of the experiment (`science`), so a study may be
    # resumed with either value.
    reuse_compiled: bool = True

    @property
    def resolved_study_name(self) -> str:
        """The study's name in the storage."""
        return self.study_name or f"bnstudy-{self.preset}"

    def validate(self) -> SearchConfig:
        """Checks every setting that can be checked without data or storage.

        Returns:
            self, for chaining.

        Raises:
            ConfigError: naming the first wrong argument and the value received.
        """
        for name, allowed in (("preset", sorted(PRESETS)), ("sampler", list(SAMPLERS)),
                              ("pruner", list(PRUNERS)), ("precision", list(PRECISIONS))):
            _check_choice(name, getattr(self, name), allowed)
        check_search_space(self.search_space)  # finds its module; imports neither it nor Keras
        for name in ("n_trials", "epochs", "batch_size", "train_size", "val_size"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"`{name}` must be positive, but got {value}.")
            if value is not None and value > LIMITS[name]:
                raise ConfigError(f"`{name}` must be at most {LIMITS[name]:,}, but got "
                                  f"{value:,}.")
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(f"`seed` must be in [0, {MAX_SEED}] (NumPy and TensorFlow take "
                              f"unsigned 32-bit seeds), but got {self.seed}.")

        if self.timeout is not None and not (math.isfinite(self.timeout) and self.timeout > 0):
            raise ConfigError(f"`timeout` must be positive seconds, but got {self.timeout}; "
                              f"leave --timeout out for no time limit.")
        if self.image_size < MIN_IMAGE_SIZE:
            raise ConfigError(f"`image_size` must be at least {MIN_IMAGE_SIZE}, but got "
                              f"{self.image_size}.")
        if self.study_name is not None:
            check_study_name(self.study_name)
        # Training holds at least one batch of float32 inputs (and many times that in
        # activations): a size whose inputs alone exceed the memory can never run.
        check_fits_in_memory("one batch of float32 inputs", self.batch_size, self.image_size,
                             bytes_per_pixel=3 * 4)
        if self.image_size > LIMITS["image_size"]:  # on a machine with the memory for it
            raise ConfigError(f"`image_size` must be at most {LIMITS['image_size']:,}, but got "
                              f"{self.image_size:,}.")
        return self

    def science(self) -> dict[str, object]:
        """The settings a resumed study must share: changing any would mix two experiments."""
        return {name: getattr(self, name) for name in (
            "dataset", "search_space", "epochs", "batch_size", "image_size", "train_size",
            "val_size", "augment", "seed")}


PRESETS: dict[str, SearchConfig] = {
    "smoke": SearchConfig(),
    # A real answer on a 2-core CPU (results/fashion_mnist/): sized for about 4 hours, measured
    # at about 5 on a quiet machine once the wide models win (README, Presets). Measured first:
    # 590 img/s at alpha 0.35 and about half that at 0.75 with one core free, so 8 epochs of
    # 30,000 images took 7-24 min a trial and 24 trials plus 16 confirmation reruns would take
    # over 5 hours; 20,000 images take two thirds of that. The whole training set (54,000
    # images, 10 epochs, 40 trials) was estimated at 7-16 hours. No augmentation: flips and
    # shifts pay off over many more epochs than 8.
    "cpu": SearchConfig(preset="cpu", n_trials=24, epochs=8, train_size=20_000, val_size=5_000),
    # Close to the blog experiment: 224x224 from scratch with SGD for many epochs. Fashion-MNIST
    # because GPU hosts are often offline and without TensorFlow: its four IDX files are read
    # with numpy (carried to the host, or from the Debian package), and the 28x28 images are
    # resized to 224x224 and augmented on the device, in the model's first layer.
    # --dataset folder:PATH or tfds:NAME take other images. bfloat16 where the GPU has it and
    # XLA ("auto" turns it on where there is a GPU) for speed.
    "gpu": SearchConfig(preset="gpu", n_trials=40, epochs=30, batch_size=128, image_size=224,
                        train_size=None, val_size=None, augment=True, precision="auto"),
}


def preset(name: str, **overrides: object) -> SearchConfig:
    """A preset with some settings replaced (None values are ignored), validated.

    Args:
        name: A key of `PRESETS`.
        **overrides: `SearchConfig` fields to change.

    Returns:
        The validated configuration.

    Raises:
        ConfigError: for an unknown preset or a wrong setting.
    """
    _check_choice("preset", name, sorted(PRESETS))
    changes = {key: value for key, value in overrides.items() if value is not None}
    return dataclasses.replace(PRESETS[name], **changes).validate()


def config_from_record(record: dict[str, object], *, storage: str, study_name: str
                       ) -> SearchConfig:
    """Rebuilds a search's `SearchConfig` from its stored record (`storage.records`).

    Args:
        record: The search study's `config` user attribute.
        storage: Where the study lives now (it may have moved since the search).
        study_name: The study's name.

    Returns:
        The validated configuration; fields the record lacks keep their defaults.
    """
    fields = {field.name for field in dataclasses.fields(SearchConfig)}
    known = {key: value for key, value in record.items() if key in fields}
    if "precision" not in record and record.get("mixed_precision"):
        known["precision"] = "mixed_float16"  # stored before `precision` replaced the switch
    known.update(storage=storage, study_name=study_name)
    return SearchConfig(**known).validate()


def check_study_name(name: str, argument: str = "study_name") -> str:
    """Returns `name` if it can name a study: an empty or blank one would mean another study.

    Args:
        name: The name given.
        argument: The argument to name in the error.

    Raises:
        ConfigError: for a name without a visible character, or one ending in "/confirm" or
            "/select", which name the reruns of a search (`study.storage.reruns`).
    """
    if not name.strip():
        raise ConfigError(f"`{argument}` must name a study with at least one visible character, "
                          f"but got {name!r}; pass the name `python -m study.search` printed "
                          f"(by default bnstudy-<preset>).")
    if len(name) > MAX_STUDY_NAME:
        raise ConfigError(f"`{argument}` must be at most {MAX_STUDY_NAME} characters (it names a "
                          f"report folder), but got {len(name)}.")
    for suffix in (CONFIRM_SUFFIX, SELECT_SUFFIX):
        if name.endswith(suffix):
            raise ConfigError(f"`{argument}` must not end in {suffix!r}, which names the "
                              f"reruns of a search, but got {name!r}; pass the search study's "
                              "name.")
    return name


def _check_choice(name: str, value: object, allowed: list[object]) -> None:
    if value not in allowed:
        raise ConfigError(f"`{name}` must be one of {allowed}, but got {value!r}.")
