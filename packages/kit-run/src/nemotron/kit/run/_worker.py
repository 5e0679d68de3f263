"""`python -m nemotron.kit.run._worker <job folder>`: runs a detached local job to completion."""

from __future__ import annotations

import sys
from pathlib import Path

from nemotron.kit.run._launch import finish_worker

if __name__ == "__main__":
    finish_worker(Path(sys.argv[1]))
