"""`python -m bnstudy`: the same as the `bnstudy` console script (`bnstudy.cli`)."""

from bnstudy.cli import main

raise SystemExit(main())
