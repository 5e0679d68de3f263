"""A publisher process for the concurrency and crash tests (run as a script).

    python _publisher.py NAME COUNT MODE TAG WORKDIR

Publishes COUNT versions of NAME to the registry at $NEMOTRON_ARTIFACTS_ROOT. Each version's
data is a folder of files whose content derives from "<TAG>-<i>", and its metadata records the
tag, so the tests can check that every version is complete and each publish landed once.
MODE is "ref" (register a reference) or "copy" (copy the data into the registry).
Prints "ready" once imports and run capture are done, waits until the epoch time in $PUBLISHER_START_AT (if
set, so that many publishers start together), then prints one line per version published.
"""

from __future__ import annotations

import os
import sys
import time

from nemotron.kit.artifacts import Artifact, current_run, get_registry


def make_data(folder: str, token: str, files: int = 8, size: int = 8192) -> None:
    os.makedirs(folder, exist_ok=True)
    for j in range(files):
        with open(os.path.join(folder, f"part-{j}.bin"), "wb") as f:
            f.write((f"{token}:{j}:".encode() * (size // 8))[:size])


def main() -> None:
    name, count, mode, tag, workdir = (
        sys.argv[1],
        int(sys.argv[2]),
        sys.argv[3],
        sys.argv[4],
        sys.argv[5],
    )
    current_run(), get_registry()  # capture git/host info and import everything first
    print("ready", flush=True)
    start_at = float(os.environ.get("PUBLISHER_START_AT", "0"))
    time.sleep(max(0.0, start_at - time.time()))
    for i in range(count):
        token = f"{tag}-{i}"
        folder = os.path.join(workdir, token)
        make_data(folder, token)
        art = Artifact(path=folder, metadata={"tag": token})
        art.save(name=name, copy=(mode == "copy"), digest=True)
        print(f"published {art.version} {token}", flush=True)


if __name__ == "__main__":
    main()
