"""`python -m analysis`: see `analysis.cli`, imported under `run_module` so that a Ctrl-C during
its seconds-long import (pandas, scipy, scikit-learn) is one line too."""

from study.cli import run_module

raise SystemExit(run_module("analysis.cli", "python -m analysis"))
