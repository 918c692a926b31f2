"""`python ingest.py [PATH ...]`: the same as `assistant ingest` (default: corpus/)."""

import sys

from assistant.cli import main

if __name__ == "__main__":  # required: ingest's parse workers import the main module when they start
    sys.exit(main(["ingest", *sys.argv[1:]]))
