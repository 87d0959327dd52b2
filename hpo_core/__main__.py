import sys

from hpo_core.cli import main

sys.exit(main())
