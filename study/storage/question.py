"""What a study asks: its scientific hyperparameter, and the values compared with a reference.

The default space asks whether `bn_position` matters once the rest is tuned, comparing "after"
with the reference "before"; another space may ask about any categorical hyperparameter
(`search_spaces.activation`: hard-swish against ReLU6). A search stores its question as the
study user attribute QUESTION_ATTR when it starts (`record_question`), and `select`,
`confirm` and `analysis` read it back (`stored_question`) instead of assuming `bn_position`.
Studies stored before questions were recorded read as the default question.

With more than two values, each other value is compared with the reference, and the error
level is split evenly across those comparisons (Bonferroni: `split_alpha`), so the
chance that any of them claims a difference that is not there stays at most the level asked
for, whatever the dependence between the comparisons (they share the reference's reruns).
Light on purpose: no Optuna import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from study.errors import ConfigError
from study.stats.decision import split_alpha
from study.storage.contract import PLACEMENTS, SCIENTIFIC_PARAM

if TYPE_CHECKING:
    import optuna

__all__ = ["DEFAULT_QUESTION", "QUESTION_ATTR", "Question", "Value", "record_question",
           "rerun_question", "stored_question"]

QUESTION_ATTR = "question"  # search study user attribute: {"param": ..., "values": [...]}

Value = str | int | float | bool  # what a categorical hyperparameter's value can be


@dataclass(frozen=True)
class Question:
    """The scientific hyperparameter and its values, the reference first.

    Attributes:
        param: The hyperparameter's name, as trials store it.
        values: Its values; the first is the reference every other value is compared with.
    """

    param: str
    values: tuple[Value, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.param, str) or not self.param:
            raise ConfigError(f"a question's `param` must name a hyperparameter, but got "
                              f"{self.param!r}.")
        if len(self.values) < 2 or len(set(self.values)) != len(self.values):
            raise ConfigError(f"a question must compare at least two distinct values of "
                              f"`{self.param}`, but got {list(self.values)!r}.")
        for value in self.values:
            if not isinstance(value, str | int | float | bool):
                raise ConfigError(f"the values of `{self.param}` must be strings, numbers or "
                                  f"booleans, but got {value!r}.")

    @property
    def reference(self) -> Value:
        """The value every other is compared with."""
        return self.values[0]

    @property
    def others(self) -> tuple[Value, ...]:
        """The values compared with the reference, in the order the space lists them."""
        return self.values[1:]

    def split_alpha(self, alpha: float) -> float:
        """Each comparison's error level when `alpha` is split across them (Bonferroni)."""
        return split_alpha(alpha, len(self.others))

    def label(self, value: Value) -> str:
        """`param=value`, as progress lines and reports name one arm of the comparison."""
        return f"{self.param}={value}"

    def difference_label(self, value: Value) -> str:
        """How reports name a comparison: "after - before"."""
        return f"{value} - {self.reference}"

    def record(self) -> dict[str, object]:
        """What the study stores as QUESTION_ATTR."""
        return {"param": self.param, "values": list(self.values)}

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> Question:
        """The question a study stored (`record`).

        Raises:
            ConfigError: when the record is not one `record` writes.
        """
        values = record.get("values")
        if not isinstance(values, Sequence) or isinstance(values, str):
            raise ConfigError(f"a stored question must list its `values`, but got {record!r}.")
        return cls(str(record.get("param", "")), tuple(values))

    def check_value(self, value: object) -> Value:
        """`value`, when it is one of the question's values.

        Raises:
            ConfigError: otherwise, naming the values allowed.
        """
        if value not in self.values:
            raise ConfigError(f"`{self.param}` must be one of {list(self.values)}, but got "
                              f"{value!r}.")
        return value  # type: ignore[return-value]

    def per_value(self, found: Mapping[Value, object]) -> list[Value]:
        """The question's values that `found` has, in the question's order."""
        return [value for value in self.values if value in found]


DEFAULT_QUESTION = Question(SCIENTIFIC_PARAM, PLACEMENTS)  # BN before ReLU6 is the reference


def stored_question(study: optuna.Study) -> Question:
    """The question search study `study` stored, or DEFAULT_QUESTION for one stored before.

    Raises:
        ConfigError: when its stored question is malformed.
    """
    record = study.user_attrs.get(QUESTION_ATTR)
    if record is None:
        return DEFAULT_QUESTION
    if not isinstance(record, Mapping):
        raise ConfigError(f"the study's `{QUESTION_ATTR}` must be a mapping, but got "
                          f"{record!r}.")
    return Question.from_record(record)


def rerun_question(reruns: optuna.Study) -> Question:
    """The question a confirmation study's reruns answer: the one its `config` record copied
    from the search (`study.reruns.confirmation`), else DEFAULT_QUESTION for older studies."""
    from study.storage.contract import CONFIG_ATTR

    record = reruns.user_attrs.get(CONFIG_ATTR)
    stored = record.get(QUESTION_ATTR) if isinstance(record, Mapping) else None
    return DEFAULT_QUESTION if not isinstance(stored, Mapping) else Question.from_record(stored)


def record_question(study: optuna.Study, question: Question) -> None:
    """Stores `question` on search study `study`, or checks it against the one stored.

    A study stored before questions were recorded asked the default question; it gets that
    question recorded, when `question` is it.

    Raises:
        ConfigError: when the study asks another question (the space changed under it).
    """
    stored = study.user_attrs.get(QUESTION_ATTR)
    if stored is None:
        if study.trials and question != DEFAULT_QUESTION:
            raise ConfigError(
                f"the search space must ask the question of the study being resumed, but "
                f"{study.study_name!r} compared {list(DEFAULT_QUESTION.values)} of "
                f"`{DEFAULT_QUESTION.param}` and the space asks about {list(question.values)} "
                f"of `{question.param}`; use another --study-name for a new study.")
        study.set_user_attr(QUESTION_ATTR, question.record())
        return
    if stored_question(study) != question:
        raise ConfigError(
            f"the search space must ask the question of the study being resumed, but "
            f"{study.study_name!r} stored {stored!r} and the space asks {question.record()!r}; "
            "use another --study-name for a new study.")
