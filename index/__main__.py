import sys

from index.piped import run
from index.cli import main

sys.exit(run(main))
