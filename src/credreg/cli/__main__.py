import sys

from credreg.cli import main

sys.exit(main())
