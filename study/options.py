"""The command-line options several commands share, each defined once, and the old spellings
that still work for one release.

Every yes/no option is argparse's `BooleanOptionalAction` (`--reuse-compiled` and
`--no-reuse-compiled`); every option whose values are a closed set lists them as choices.
`OneLineParser` (study/cli.py) rewrites an old spelling (`OLD_SPELLINGS`) into the new one
before parsing, with one line on stderr. Light on purpose: standard library only.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

__all__ = ["OLD_SPELLINGS", "add_allow_dirty", "add_margin", "add_reuse_compiled", "add_storage",
           "add_study_name", "rewrite_old_spellings"]

Group = argparse.ArgumentParser | argparse._ArgumentGroup


def add_allow_dirty(parser: Group) -> None:
    """The flag that lets a command write a results/ storage from uncommitted code
    (`study.engine.provenance`)."""
    parser.add_argument("--allow-dirty", action=argparse.BooleanOptionalAction, default=False,
                        help="write a results/ storage or snapshot from uncommitted code (the "
                             "report lists the reruns that ran so)")


def add_storage(parser: Group, *, default: str | None, help: str | None = None) -> None:
    """`--storage URL`: the Optuna storage (default: `default`)."""
    shown = f" (default: {default})" if default else ""
    parser.add_argument("--storage", default=default,
                        help=help or f"Optuna storage URL{shown}; postgresql://... for many "
                                     "machines")


def add_study_name(parser: Group, *, required: bool = True,
                   help: str = "name of the search study") -> None:
    """`--study-name NAME`."""
    parser.add_argument("--study-name", required=required, help=help)


def add_margin(parser: Group, *, default: float | None, help: str) -> None:
    """`--margin M`: the equivalence margin, a fraction of accuracy (0.005 is 0.5 pp)."""
    parser.add_argument("--margin", type=float, metavar="M", default=default, help=help)


def add_reuse_compiled(parser: Group, *, default: bool | None, what: str = "trials") -> None:
    """`--reuse-compiled / --no-reuse-compiled`."""
    parser.add_argument("--reuse-compiled", action=argparse.BooleanOptionalAction,
                        default=default,
                        help=f"{what} of an architecture already compiled in this process reuse "
                             "its model, re-initialised (default: on)")


def _on_off(flag: str) -> Callable[[str], list[str]]:
    def rewrite(value: str) -> list[str]:
        if value not in ("on", "off"):
            return [flag, value]  # not the old spelling: argparse says what is wrong
        return [flag if value == "on" else "--no-" + flag[2:]]
    return rewrite


# Old flag -> how its value is spelled now. Each goes in the release after the one it was
# deprecated in (one line on stderr says so each time it is used).
OLD_SPELLINGS: dict[str, Callable[[str], list[str]]] = {
    "--reuse-compiled": _on_off("--reuse-compiled"),
}


def rewrite_old_spellings(argv: Sequence[str], prog: str,
                          spellings: dict[str, Callable[[str], list[str]]] | None = None
                          ) -> list[str]:
    """`argv` with old spellings replaced by new ones, one deprecation line per replacement.

    A flag in `spellings` followed by a value (`--flag VALUE` or `--flag=VALUE`) is rewritten
    by its function; the same flag spelled the new way passes through unchanged.
    """
    spellings = OLD_SPELLINGS if spellings is None else spellings
    rewritten: list[str] = []
    items = list(argv)
    index = 0
    while index < len(items):
        item = items[index]
        flag, equals, value = item.partition("=")
        if flag in spellings and (equals or (index + 1 < len(items)
                                             and not items[index + 1].startswith("-"))):
            if not equals:
                value = items[index + 1]
                index += 1
            new = spellings[flag](value)
            if new != [flag, value]:
                old = f"{flag} {value}"
                print(f"{prog}: `{old}` is deprecated and goes in the next release; use "
                      f"`{' '.join(new)}`.", file=sys.stderr)
            rewritten += new
        else:
            rewritten.append(item)
        index += 1
    return rewritten
