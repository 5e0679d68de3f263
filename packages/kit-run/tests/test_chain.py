"""JobChain: afterok chains on the real local Slurm, in-turn chains locally, dry-run placeholders;
and the stage-declared launchers (one task, torchrun, Ray) applied to a profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from nemotron.kit.run import JobChain, LocalProfile, SlurmProfile
from nemotron.kit.run._launchers import for_launcher
from nemotron.kit.run.errors import ChainStepFailedError

SLURM_ENV = """
    [cluster]
    executor = "slurm"
    account = "root"
    partition = "debug"
    time = "00:05:00"
    nodes = 2
    ntasks_per_node = 2
    gpus_per_node = 8
"""
STEP = """
    import sys
    open(sys.argv[1], "a").write(sys.argv[2] + "\\n")
    sys.exit(int(sys.argv[3]))
"""
# invoke (NeMo-Run's shell helper) leaves its subprocess pipes to the GC.
pytestmark = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)


def test_dry_run_renders_dependency_lines_with_placeholder_ids(write_env, script) -> None:
    write_env(SLURM_ENV)
    step = script("step.py", STEP)
    chain = JobChain("cluster", dry_run=True, echo=None)
    chain.submit("prep", step, ["x", "prep", "0"], name="prep", launcher="task")
    chain.submit("train", step, ["x", "train", "0"], name="train", launcher="torchrun")
    chain.submit("eval", step, ["x", "eval", "0"], name="eval", after=["prep"])
    prep, train, evaluate = (job.rendered or "" for job in chain.jobs)
    assert "--dependency" not in prep
    assert "#SBATCH --dependency='afterok:<prep>'" in train
    assert "#SBATCH --dependency='afterok:<prep>'" in evaluate
    assert "#SBATCH --nodes=1" in prep and "torchrun" not in prep
    assert "#SBATCH --nodes=2" in train and "--nproc-per-node 8" in train
    assert [job.state for job in chain.jobs] == ["DRY_RUN"] * 3
    chain.follow()  # a dry run has nothing to wait for


def test_after_an_unknown_step_is_refused(write_env, script) -> None:
    write_env(SLURM_ENV)
    chain = JobChain("cluster", dry_run=True, echo=None)
    with pytest.raises(ValueError, match="unknown step"):
        chain.submit("train", script("step.py", STEP), after=["prep"])


@pytest.mark.parametrize("detach", [False, True])
def test_local_chain_stops_at_the_failed_step(script, project: Path, detach: bool) -> None:
    stamp = project / "order.txt"
    step = script("step.py", STEP)
    chain = JobChain("local", detach=detach, echo=None)
    with pytest.raises(ChainStepFailedError) as info:
        chain.submit("one", step, [str(stamp), "one", "0"], name="one")
        chain.submit("two", step, [str(stamp), "two", "3"], name="two")
        chain.submit("three", step, [str(stamp), "three", "0"], name="three")
        chain.follow(poll=0.2)
    err = info.value
    assert err.step == "two" and err.state == "FAILED"
    assert str(err).startswith(f"step 'two' (job {err.job_id}) ended FAILED")
    assert err.logs and all(Path(p).exists() for p in err.logs)
    assert stamp.read_text().split() == ["one", "two"]
    # attached, the third step is never launched; detached, its waiting worker ends without
    # running it (cancelled by the chain, or failed on its own when it saw the dependency fail)
    states = [job.status() for job in chain.jobs]
    assert states[:2] == ["SUCCEEDED", "FAILED"] and len(states) == (3 if detach else 2)
    if detach:
        assert states[2] in ("CANCELLED", "FAILED")


@pytest.mark.slurm
@pytest.mark.usefixtures("slurm_partition")
def test_slurm_chain_submits_at_once_and_cancels_the_rest_on_failure(
    write_env, script, project: Path
) -> None:
    write_env(SLURM_ENV.replace("nodes = 2", "nodes = 1").replace("gpus_per_node = 8", ""))
    stamp = project / "order.txt"
    step = script("step.py", STEP)
    chain = JobChain("cluster", echo=None)
    first = chain.submit("one", step, [str(stamp), "one", "0"], name="one", launcher="task")
    second = chain.submit("two", step, [str(stamp), "two", "3"], name="two", launcher="task")
    third = chain.submit("three", step, [str(stamp), "three", "0"], name="three")
    assert chain.scheduled and all(job.record.backend_id for job in chain.jobs)
    sbatch = (third.folder / "submission.sh").read_text()
    assert f"--dependency=afterok:{second.record.backend_id}" in sbatch
    with pytest.raises(ChainStepFailedError) as info:
        chain.follow(poll=0.5)
    assert info.value.step == "two" and info.value.cancelled == ["three"]
    assert "log-" in " ".join(info.value.logs)
    assert [first.status(), second.status(), third.status()] == [
        "SUCCEEDED",
        "FAILED",
        "CANCELLED",
    ]
    # one task each, though the profile allows two per node: each step ran exactly once
    assert stamp.read_text().split() == ["one", "two"]


def test_launchers_shape_the_profile() -> None:
    big = SlurmProfile(
        name="c", nodes=4, ntasks_per_node=2, gpus_per_node=8, ray=True, container_image="img"
    )
    task = for_launcher(big, "task")
    assert (task.nodes, task.ntasks_per_node, task.launcher, task.ray) == (1, 1, "none", False)
    torchrun = for_launcher(big, "torchrun")
    assert (torchrun.nodes, torchrun.ntasks_per_node, torchrun.launcher, torchrun.ray) == (
        4,
        1,
        "torchrun",
        False,
    )
    ray = for_launcher(big, "ray")
    assert (ray.nodes, ray.launcher, ray.ray) == (4, "none", True)
    no_ray = for_launcher(SlurmProfile(name="c", nodes=4), "ray")
    assert (no_ray.nodes, no_ray.ray) == (1, False)
    cpu = for_launcher(LocalProfile(name="l", ntasks_per_node=4), "torchrun")
    assert (cpu.ntasks_per_node, cpu.launcher) == (1, "none")
    assert for_launcher(big, None) is big
