"""`python -m nemotron.kit.run._spread N -- cmd ...`: run N copies of a command on this machine.

Each copy gets RANK, LOCAL_RANK, WORLD_SIZE and LOCAL_WORLD_SIZE (the variables torchrun and
srun-based launchers set), so scripts shard their work the same way on a laptop and a cluster.
Exits with the first non-zero exit code; the other copies are stopped then.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    count, sep, *command = argv
    if sep != "--" or not command:
        print("usage: python -m nemotron.kit.run._spread N -- command ...", file=sys.stderr)
        return 2
    world = int(count)
    procs = []
    for rank in range(world):
        env = {
            **os.environ,
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": str(world),
            "LOCAL_WORLD_SIZE": str(world),
        }
        procs.append(subprocess.Popen(command, env=env))
    try:
        while True:
            codes = [p.poll() for p in procs]
            failed = [c for c in codes if c not in (None, 0)]
            if failed:
                for p in procs:
                    if p.poll() is None:
                        p.terminate()
                return failed[0] or 1
            if all(c == 0 for c in codes):
                return 0
            time.sleep(0.05)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
