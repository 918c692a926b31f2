"""`python ingest.py [PATH ...]`: the same as `assistant ingest` (default: corpus/)."""

import sys

from assistant.cli import main

sys.exit(main(["ingest", *sys.argv[1:]]))
