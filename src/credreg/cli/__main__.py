"""`python -m credreg.cli`: the `credreg` command, as the installed console script runs it."""

from credreg.cli import exit_with, main

exit_with(main())
