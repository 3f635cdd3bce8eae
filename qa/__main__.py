import sys

from index.piped import run
from qa.cli import main

sys.exit(run(main))
