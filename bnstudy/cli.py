"""`bnstudy SUBCOMMAND [options]`: the commands of `study` and `analysis` under one name.

Each subcommand runs its module's `main` with the rest of the command line, so its options,
output and exit codes are the module's own. Light on purpose: the module is imported only once
chosen, under `run_module`, so a Ctrl-C during its import is one line too.
"""

from __future__ import annotations

import sys

from study.cli import EXIT_USAGE, run_module

__all__ = ["SUBCOMMANDS", "main"]

# Subcommand -> the module whose `main()` it runs, in the order a study goes.
SUBCOMMANDS = {
    "search": "study.search",
    "select": "study.select",
    "confirm": "study.confirm",
    "analyse": "analysis.cli",
    "run": "study.run",
    "snapshot": "study.snapshot",
    "rename": "study.rename",
}
_USAGE = f"usage: bnstudy {{{','.join(SUBCOMMANDS)}}} [options]"


def main(argv: list[str] | None = None) -> int:
    """Runs the subcommand named first in `argv` (default: the command line); its exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] in ("-h", "--help"):
        print(f"{_USAGE}\n\n`bnstudy NAME --help` shows a subcommand's options; each is the "
              "module of the same name: " + ", ".join(
                  f"{name} = python -m {module.removesuffix('.cli')}"
                  for name, module in SUBCOMMANDS.items()))
        return 0 if args else EXIT_USAGE
    name, rest = args[0], args[1:]
    if name not in SUBCOMMANDS:
        print(f"bnstudy: error: the subcommand must be one of {', '.join(SUBCOMMANDS)}, but got "
              f"{name!r}.", file=sys.stderr)
        return EXIT_USAGE
    # The module's own messages name it (`python -m study.search: error: ...`).
    return run_module(SUBCOMMANDS[name], f"bnstudy {name}", rest)


if __name__ == "__main__":
    raise SystemExit(main())
