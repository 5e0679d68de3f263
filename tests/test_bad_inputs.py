"""The bad-input corpus (tests/bad_inputs/*.toml): every row is a wrong input that must give
one clear `Error:` line, exit 2 and leave nothing written. Rows are data; see cases.toml."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).parent / "bad_inputs"
CASE_KEYS = {"id", "argv", "expect", "exit", "stderr_lines", "env", "files", "publish"}


def _cases() -> list[Any]:
    cases = []
    for table in sorted(CORPUS.glob("*.toml")):
        for case in tomllib.loads(table.read_text(encoding="utf-8")).get("case", []):
            cases.append(pytest.param(case, id=f"{table.stem}:{case.get('id', '?')}"))
    return cases


CASES = _cases()


def test_corpus_rows_are_well_formed() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    for param in CASES:
        (case,) = param.values
        assert set(case) <= CASE_KEYS, f"{param.id}: unknown keys {set(case) - CASE_KEYS}"
        assert case["argv"] and case["expect"], f"{param.id}: needs argv and expect"


def _snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under `root` with a digest of its content."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            out[rel] = "<dir>"
    return out


def _publish(entries: list[dict[str, Any]], registry: Path, work: Path) -> None:
    from nemotron.kit.artifacts import Registry, registered_types

    reg = Registry(registry)
    for i, entry in enumerate(entries):
        data = work / "data" / f"{entry['name']}-{i}"
        data.mkdir(parents=True)
        (data / "part.bin").write_bytes(b"x" * 64)
        cls = registered_types()[entry.get("type", "ModelArtifact")]
        artifact = cls(path=str(data))
        if entry.get("digest"):
            from nemotron.kit.artifacts import compute_digest

            artifact.digest = compute_digest(data)
        reg.publish(artifact, entry["name"], aliases=entry.get("aliases", []))


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gives_one_line_exit_2_and_writes_nothing(
    case: dict[str, Any], tmp_path: Path
) -> None:
    work = tmp_path / "project"
    (work / ".git").mkdir(parents=True)  # env.toml discovery stops here
    (work / "home").mkdir()
    registry = work / "registry"
    for item in case.get("files", []):
        target = work / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if "hex" in item:
            target.write_bytes(bytes.fromhex(item["hex"]))
        else:
            target.write_text(item["text"], encoding="utf-8")
    _publish(case.get("publish", []), registry, work)

    def expand(text: str) -> str:
        return text.replace("{work}", str(work))

    env = {
        **os.environ,
        "HOME": str(work / "home"),
        "NEMOTRON_ARTIFACTS_ROOT": str(registry),
        "NEMOTRON_JOBS_DIR": str(work / ".nemotron" / "jobs"),
        "COLUMNS": "200",
        **{k: expand(v) for k, v in case.get("env", {}).items()},
    }
    env.pop("NEMOTRON_FULL_ERROR", None)
    env.pop("NEMOTRON_ENV_FILE", None)
    before = _snapshot(work)
    proc = subprocess.run(
        [sys.executable, "-m", "nemotron.kit.cli", *(expand(a) for a in case["argv"])],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    assert proc.returncode == case.get("exit", 2), report
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == case.get("stderr_lines", 1), report
    assert lines[0].startswith("Error: ") or case.get("stderr_lines", 1) > 1, report
    assert "Traceback" not in proc.stderr, report
    for expected in case["expect"]:
        assert expand(expected) in proc.stderr, f"missing {expected!r}\n{report}"
    assert _snapshot(work) == before, "the command wrote or changed files"
