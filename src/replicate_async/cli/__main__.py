"""`python -m replicate_async.cli`."""

import sys

from replicate_async.cli import main

sys.exit(main())
