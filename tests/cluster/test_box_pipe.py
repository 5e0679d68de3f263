"""`nemotron nano3 pipe --until data --run box`: the pipe's data prep steps through the cluster in a
box as one kit-run JobChain: each step planned like a single stage (config shipped), one task each,
submitted at once over ssh with `afterok` on the step before, each published version pinned by
the pipe's alias."""

from __future__ import annotations

import itertools

import pytest

from .conftest import SECRET, Project

pytestmark = [pytest.mark.cluster, pytest.mark.slurm, pytest.mark.slow]

STEPS = ("data-prep-pretrain", "data-prep-sft", "data-prep-rl")


def test_pipe_data_steps_chain_afterok_on_the_box(project: Project) -> None:
    proc = project.nemotron("nano3", "pipe", "-c", "tiny", "--until", "data", "--run", "box")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "# nano3 pipe: 3 artifacts published" in out
    by_step = {r["name"].removeprefix("nano3-pipe-"): r for r in project.records()}
    assert sorted(by_step) == sorted(STEPS)
    scripts = {
        step: (
            project.folder / ".nemotron/jobs" / by_step[step]["id"] / "submission.sh"
        ).read_text()
        for step in STEPS
    }
    for step in STEPS:
        assert by_step[step]["state"] == "SUCCEEDED"
        assert (
            "#SBATCH --nodes=1" in scripts[step] and "#SBATCH --ntasks-per-node=1" in scripts[step]
        )
        assert "/configs/data_prep/" not in " ".join(by_step[step]["command"])  # shipped config
    for before, after in itertools.pairwise(STEPS):
        assert f"#SBATCH --dependency=afterok:{by_step[before]['backend_id']}" in scripts[after]
        assert by_step[after]["depends_on"] == [by_step[before]["id"]]
    assert "# lineage" in out  # the laptop prints what the box jobs recorded
    # each job got its config shipped, not the laptop's path; nothing secret stayed behind
    box_side = project.box_files(list(by_step.values()))
    assert project.host_paths_in(box_side) == {}
    assert [str(p) for p in box_side if SECRET.encode() in p.read_bytes()] == []
