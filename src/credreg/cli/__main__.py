"""`python -m credreg.cli`: the `credreg` command, as the installed console script runs it."""

import sys

from credreg.cli import main

sys.exit(main())
