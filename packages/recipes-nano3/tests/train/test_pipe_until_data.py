"""`nemotron nano3 pipe -c tiny --until data`: the README's main job, through the console script.

Runs the three tiny data prep stages for real on the embedded defaults (local execution, the
test's registry from the root conftest), then checks what was published and the printed lineage.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DATA = ("nano3-pretrain-data", "nano3-sft-data", "nano3-rl-data")
STEPS = ("data-prep-pretrain", "data-prep-sft", "data-prep-rl")


def nemotron(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The `nemotron` console script comes with the meta-package; this package alone (the
    # isolation run) has kit-cli, whose `python -m nemotron.kit.cli` calls the same `main`.
    script = shutil.which("nemotron", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "nemotron.kit.cli"]
    env = {k: v for k, v in os.environ.items() if k not in ("NEMOTRON_DATA_DIR", "NEMOTRON_RUN_ID")}
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**env, "COLUMNS": "200", "NEMORUN_HOME": str(cwd / ".nemorun")},
        timeout=300,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "env.toml").write_text('[laptop]\nexecutor = "local"\n')
    return folder


def test_pipe_until_data_runs_the_data_stages_and_prints_their_lineage(project: Path) -> None:
    from nemotron.kit.artifacts import get_registry

    proc = nemotron(project, "nano3", "pipe", "-c", "tiny", "--until", "data")
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    alias = out.split("pinned with alias ")[1].split()[0]
    assert "## step 3/3: data-prep-rl" in out and "step 4/" not in out

    registry = get_registry()
    assert sorted(registry.list_names()) == sorted(DATA)
    published = {name: registry.resolve(name, alias) for name in DATA}
    for name, artifact in published.items():
        assert registry.aliases(name) == {alias: 1}
        # The default data dir is ./output under the directory the command ran in.
        assert Path(artifact.path).is_relative_to(project / "output/nano3/tiny")
        assert f"{artifact.uri}  [{artifact.type}]  {artifact.path}" in out

    lineage = out.split("# lineage\n")[1]
    trees = {tree.split(":v1", 1)[0]: tree for tree in lineage.strip().split("\n\n")}
    assert sorted(trees) == sorted(DATA)
    # Each data artifact back to its source datasets (and, where it tokenizes, the tokenizer).
    assert "├── stdlib-a  [source]" in trees["nano3-pretrain-data"]
    assert "├── stdlib-b  [source]" in trees["nano3-pretrain-data"]
    assert "└── tokenizer  [source] <@nano3/tokenizer>" in trees["nano3-pretrain-data"]
    assert "├── stdlib-chat  [source]" in trees["nano3-sft-data"]
    assert "└── tokenizer  [source]" in trees["nano3-sft-data"]
    assert "├── arithmetic  [source]" in trees["nano3-rl-data"]
    assert "├── blend  [source]" in trees["nano3-rl-data"]  # and the rows its placeholders took:
    assert "├── placeholders-nano_v3_sft_profiled_dapo17k  [source]" in trees["nano3-rl-data"]
    assert (
        "└── placeholders-nano_v3_sft_profiled_skywork_no_omni  [source]" in trees["nano3-rl-data"]
    )
    for name, artifact in published.items():
        assert artifact.producer is not None
        assert f"{name}:v1  [{artifact.type}]  run {artifact.producer.run_id}" in trees[name]


@pytest.mark.parametrize("mode", [("--dry-run",), ("--dry-run", "-r", "laptop"), ("-b", "laptop")])
def test_pipe_until_data_with_dry_run_and_profiles(
    project: Path, mode: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    from nemotron.kit.artifacts import get_registry

    monkeypatch.setenv("NEMOTRON_ENV_FILE", str(project / "env.toml"))
    monkeypatch.setenv("NEMOTRON_JOBS_DIR", str(project / ".nemotron/jobs"))
    proc = nemotron(project, "nano3", "pipe", "-c", "tiny", "--until", "data", *mode)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    alias = out.split("pinned with alias ")[1].split()[0]
    profile = "laptop" if "laptop" in mode else "local"
    assert f"# nano3 pipe: 3 steps on profile {profile!r}" in out
    assert "## step 3/3: data-prep-rl (afterok data-prep-sft)" in out
    names = get_registry().list_names()
    if "--dry-run" in mode:
        assert names == []
        for name in DATA:
            assert f"# lineage once published: nemotron artifacts lineage {name}:{alias}" in out
    else:  # -b: detached workers, each waiting for the step before; the pipe returns at once
        from nemotron.kit.run import list_jobs

        by_name = {job.record.name: job for job in list_jobs(project / ".nemotron/jobs")}
        assert sorted(by_name) == sorted(f"nano3-pipe-{s}" for s in STEPS)
        jobs = [by_name[f"nano3-pipe-{s}"] for s in STEPS]
        assert [job.record.depends_on for job in jobs] == [[], [jobs[0].id], [jobs[1].id]]
        assert [job.wait(timeout=240, poll=0.5) for job in jobs] == ["SUCCEEDED"] * 3
        assert sorted(get_registry().list_names()) == sorted(DATA)
        assert f"follow: nemotron jobs status {jobs[-1].id}" in out
