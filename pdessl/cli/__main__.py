"""`python -m pdessl.cli`: the `pdessl` command."""

import sys

from pdessl.cli import main

sys.exit(main())
