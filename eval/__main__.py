import sys

from index.piped import run
from eval.cli import main

sys.exit(run(main))
