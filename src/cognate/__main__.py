"""`python -m cognate` is the `cognate` command."""

from cognate.cli import main

raise SystemExit(main())
