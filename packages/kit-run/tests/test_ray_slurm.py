"""Ray on Slurm as kit-run renders it (NeMo-Run's ray.sub.j2): the dry run shows the real submit.

Submitting for real needs pyxis: tests/cluster/test_box_ray.py runs these jobs on the cluster in a
box (the Ray head started in the image, chained, cancelled). Here: what the script says.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nemotron.kit.run import JobFile, launch
from nemotron.kit.run._backends.ray_slurm import COMMAND_FILE
from nemotron.kit.run.errors import ProfileValueError

# NeMo-Run's ssh tunnel (invoke/paramiko) leaves pipes to the GC, as in test_slurm_ssh.py.
pytestmark = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)

SECRET = "hf_ray_secret_5d2e81"
ENV = """
    [laptop-ray]
    executor = "slurm"
    partition = "batch"
    tunnel = "ssh"
    host = "login.example"
    remote_job_dir = "/lustre/me/jobs"
    container_image = "nvcr.io/nvidia/nemo:25.07"
    ray = true
    cpus_per_task = 4
    env_vars = {{ HF_TOKEN = "{secret}", NOTE = "two words" }}

    [no-container]
    executor = "slurm"
    ray = true
"""


def test_a_ray_profile_without_a_container_is_refused_before_anything_is_written(
    write_env, project: Path
) -> None:
    write_env(ENV.format(secret=SECRET))
    with pytest.raises(ProfileValueError) as err:
        launch("platform", profile="no-container", launcher="ray", dry_run=True, echo=None)
    message = str(err.value)
    assert message.startswith("[no-container] container_image: a Ray cluster on Slurm starts")
    assert "\n" not in message
    assert not (project / ".nemotron" / "jobs").exists()


def test_ray_dry_run_from_a_laptop_shows_the_cluster_dir_dependency_and_no_secret(
    write_env, project: Path
) -> None:
    write_env(ENV.format(secret=SECRET))
    first = launch("platform", profile="laptop-ray", launcher="task", dry_run=True, echo=None)
    shown: list[str] = []
    job = launch(
        "nemotron.recipes.x",
        ["--config", JobFile("tiny.yaml", "a: 1\n")],
        profile="laptop-ray",
        launcher="ray",
        name="rl",
        depends_on=[first],
        dry_run=True,
        echo=shown.append,
    )
    assert job.state == "DRY_RUN" and shown == [job.rendered]
    script = job.rendered or ""
    cluster_dir = f"/lustre/me/jobs/{job.id}"  # on the cluster, not this machine's job folder
    assert f"export CLUSTER_DIR={cluster_dir}\n" in script
    assert f"COMMAND_WORKDIR={cluster_dir}\n" in script
    assert f"#SBATCH --output={cluster_dir}/logs/sbatch_nemotron.rl_%j.out" in script
    assert "#SBATCH --dependency='afterok:<platform>'" in script  # the step it waits for
    assert f'COMMAND="${{COMMAND:-bash {cluster_dir}/configs/nemotron/{COMMAND_FILE}}}"' in script
    # the wrapper the head runs: the secrets file (a path), then the command with its config
    secrets = f"/lustre/me/jobs/.nemotron/secrets/{job.id}"
    wrapper = (job.folder / "files" / COMMAND_FILE).read_text()
    assert f". {secrets}; rm -f {secrets}; fi\n" in wrapper
    config = f"{cluster_dir}/configs/nemotron/tiny.yaml"
    assert wrapper.endswith(f"exec python -m nemotron.recipes.x --config {config}\n")
    assert job.record.command == ["python", "-m", "nemotron.recipes.x", "--config", config]
    assert f"trap 'rm -f {secrets}' EXIT" in script  # gone even if Ray never starts
    # the template's `export K=V` lines are shell: values quoted; Ray's bin/ first on PATH
    assert "export NOTE='two words'\n" in script
    assert "/.nemotron/deps/" in script and '/bin:"$PATH"\n' in script
    assert "export CPUS_PER_WORKER=4\n" in script
    assert "--container-image=nvcr.io/nvidia/nemo:25.07" in script
    kept = [p for p in job.folder.rglob("*") if p.is_file()]
    assert not [str(p) for p in kept if SECRET.encode() in p.read_bytes()]
    assert SECRET not in script and str(project) not in script and str(Path.home()) not in script
