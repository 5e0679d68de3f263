"""The NeMo-Run adapter (`_nemo_run`): every internal name it uses exists in the NeMo-Run we
run with, and no other kit-run module imports NeMo-Run or reaches into those names.

When a NeMo-Run upgrade moves or renames one of them, these tests fail and name it.
"""

from __future__ import annotations

import ast
import importlib
import io
from pathlib import Path

import pytest

from nemotron.kit.run import _nemo_run as nr

SRC = Path(nr.__file__).parent
# invoke (NeMo-Run's shell helper) leaves its subprocess pipes to the GC.
pytestmark = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)


@pytest.mark.parametrize(("module", "dotted"), nr.PRIVATE_NAMES)
def test_each_internal_name_exists(module: str, dotted: str) -> None:
    nr.import_nemo_run()
    obj = importlib.import_module(module)
    for part in dotted.split("."):
        assert hasattr(obj, part), f"NeMo-Run moved or renamed {module}.{dotted}"
        obj = getattr(obj, part)


def test_rundir_is_nemo_runs() -> None:
    nr.import_nemo_run()
    config = importlib.import_module("nemo_run.config")
    assert nr.RUNDIR == "/" + config.RUNDIR_NAME


def _assert_has(kind: str, obj: object) -> None:
    missing = [name for name in nr.INSTANCE_NAMES[kind] if not hasattr(obj, name)]
    assert not missing, f"NeMo-Run's {kind} has no {missing} any more"


def test_instance_names_on_a_real_dry_run(tmp_path: Path) -> None:
    run = nr.import_nemo_run()
    executor = run.LocalExecutor(ntasks_per_node=1, packager=run.Packager())
    log = io.StringIO()
    with nr.quiet_io(log):
        exp = nr.experiment("adapter", executor, ["python", "-m", "json.tool", "--help"])
        prepared: list[object] = []
        nr.on_prepare(exp.jobs[0], prepared.append)
        exp.dryrun(log=False)
        nr.close(exp)
    _assert_has("Experiment", exp)
    _assert_has("Job", exp.jobs[0])
    assert prepared == [exp.jobs[0]]  # the hook ran when NeMo-Run prepared the job
    exp_id, exp_dir = nr.experiment_ids(exp)
    assert exp_id.startswith("adapter") and exp_dir.endswith(exp_id)
    info, script = nr.rendered_request(exp.jobs[0])
    assert info is not None and script is None  # a local job has no script to materialize
    assert "json.tool" in nr.describe_request(info)


def test_instance_names_of_tunnels_and_the_ray_template() -> None:
    run = nr.import_nemo_run()
    tunnel = run.SSHTunnel(host="login.example", user="me", job_dir="/jobs")
    _assert_has("SSHTunnel", tunnel)
    assert nr.is_ssh_tunnel(tunnel) and not nr.is_ssh_tunnel(run.LocalTunnel(job_dir=""))
    calls: list[str] = []
    nr.set_login(tunnel, lambda: calls.append("login"))
    tunnel._authenticate()
    assert calls == ["login"]
    executor = run.SlurmExecutor(account="a", tunnel=run.LocalTunnel(job_dir=""))
    script = nr.slurm_ray_script("r", "/jobs/r", executor, "python -m x")
    assert "ray start --head" in script and "COMMAND_WORKDIR=/jobs/r" in script
    _assert_has("SlurmJobDetails", executor.job_details)
    assert nr.ray_logs(executor) == ("/jobs/r/logs", "ray-")


def _nemo_run_reach_ins(path: Path) -> list[str]:
    """Imports of nemo_run and uses of the adapter's underscored names in one module."""
    tree = ast.parse(path.read_text(), str(path))
    names = [dotted.rsplit(".", 1)[-1] for _, dotted in nr.PRIVATE_NAMES]
    names += [n for instance_names in nr.INSTANCE_NAMES.values() for n in instance_names]
    internal = {n for n in names if n.startswith("_")}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "nemo_run"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "nemo_run":
            found.append(f"from {node.module}")
        elif isinstance(node, ast.Attribute) and node.attr in internal:
            found.append(f".{node.attr} (line {node.lineno})")
    return found


def test_no_other_module_reaches_into_nemo_run() -> None:
    offenders = {
        str(path.relative_to(SRC)): found
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "_nemo_run.py" and (found := _nemo_run_reach_ins(path))
    }
    assert offenders == {}
    assert _nemo_run_reach_ins(SRC / "_nemo_run.py")  # the check sees the adapter's own
