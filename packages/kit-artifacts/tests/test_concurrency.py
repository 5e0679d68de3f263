"""Many publishers at once, and publishers killed with SIGKILL mid-publish."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from nemotron.kit.artifacts import Artifact, Registry

PUBLISHER = str(Path(__file__).with_name("_publisher.py"))


def _spawn(name: str, count: int, mode: str, tag: str, workdir: Path, **env: str):  # type: ignore[no-untyped-def]
    return subprocess.Popen(
        [sys.executable, PUBLISHER, name, str(count), mode, tag, str(workdir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def _check_registry(reg: Registry, name: str) -> list[str]:
    """Every visible version is complete and verifies; return the tokens in version order."""
    versions = reg.list_versions(name)
    numbers = [a.version for a in versions]
    folder = Path(reg.root) / name / "versions"
    slots = sorted(int(p.name) for p in folder.iterdir()) if folder.exists() else []
    assert numbers == slots, "a version folder exists that is not a complete version"
    for art in versions:
        assert art.version is not None and art.digest is not None
        assert reg.verify(name, art.version), f"v{art.version} data does not match its digest"
    if numbers:
        assert reg.resolve(name).version == max(n for n in numbers if n is not None)
    return [a.metadata["tag"] for a in versions]


def test_sixteen_processes_publish_the_same_name(registry: Registry, tmp_path: Path) -> None:
    procs, per_proc = 16, 6
    start_at = str(time.time() + 1.5)  # let every interpreter start, then go together
    children = [
        _spawn(
            "shared",
            per_proc,
            "copy" if i % 2 else "ref",
            f"p{i}",
            tmp_path / "work",
            PUBLISHER_START_AT=start_at,
        )
        for i in range(procs)
    ]
    published: list[tuple[int, str]] = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        for line in out.splitlines()[1:]:
            _, version, token = line.split()
            published.append((int(version), token))
    total = procs * per_proc
    assert sorted(v for v, _ in published) == list(range(1, total + 1))  # none lost or doubled
    tokens = _check_registry(registry, "shared")
    assert Counter(tokens) == Counter(t for _, t in published) and len(set(tokens)) == total
    assert dict(published) == {
        a.version: a.metadata["tag"] for a in registry.list_versions("shared")
    }
    assert (Path(registry.root) / "shared" / "latest").read_text().strip() == str(total)
    assert list((Path(registry.root) / "shared" / ".staging").iterdir()) == []


def test_threads_publish_the_same_name(registry: Registry, tmp_path: Path) -> None:
    results: list[int] = []

    def worker(i: int) -> None:
        for j in range(10):
            art = registry.publish(Artifact(path=str(tmp_path), metadata={"tag": f"{i}-{j}"}), "t")
            assert art.version is not None
            results.append(art.version)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(1, 61))
    assert registry.resolve("t").version == 60


def test_publishers_killed_at_random_points(registry: Registry, tmp_path: Path) -> None:
    rng = random.Random(20240611)
    name = "crashy"
    staged_leftovers = 0
    for round_ in range(30):
        mode = rng.choice(["copy", "ref"])
        child = _spawn(name, 10_000, mode, f"r{round_}", tmp_path / "work")
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.15))
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)
        staging = Path(registry.root) / name / ".staging"
        staged_leftovers += len(list(staging.iterdir())) if staging.exists() else 0
        tokens = _check_registry(registry, name)  # nothing partial is visible
        assert len(tokens) == len(set(tokens))
    after = registry.list_versions(name)
    survivor = Artifact(path=str(tmp_path), metadata={"tag": "final"}).save(name=name, digest=True)
    assert survivor.version == max((a.version or 0 for a in after), default=0) + 1
    assert registry.resolve(name).metadata["tag"] == "final"
    # the dead publishers' staging folders and temp files are gone after a publish
    assert list((Path(registry.root) / name / ".staging").iterdir()) == []
    print(f"{len(after)} versions survived 30 kills; {staged_leftovers} staging leftovers seen")
