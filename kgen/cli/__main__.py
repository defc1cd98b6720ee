"""`python -m kgen.cli`, as `kgen`."""

import sys

from kgen.cli import main

sys.exit(main())
