"""`python -m arxiv_digest`."""

import sys

from .cli import main

sys.exit(main())
