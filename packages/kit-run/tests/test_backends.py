"""Which backend runs a profile's jobs, and answers for a recorded job: decided in one place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from nemotron.kit.run import load_env_profile
from nemotron.kit.run._backends import backend_for, backend_of
from nemotron.kit.run._launchers import for_launcher
from nemotron.kit.run._records import JobRecord

SRC = Path(backend_for.__code__.co_filename).parents[1]
ENV = """
    [slurm]
    executor = "slurm"
    [rayslurm]
    extends = "slurm"
    ray = true
    [docker]
    executor = "docker"
    container_image = "img"
    [sky]
    executor = "skypilot"
"""


@pytest.mark.parametrize(
    ("profile", "launcher", "backend"),
    [
        ("local", None, "local"),
        ("slurm", None, "slurm"),
        ("slurm", "ray", "slurm"),  # no `ray = true`: one task that starts its own Ray
        ("rayslurm", "ray", "ray-slurm"),
        ("rayslurm", "task", "slurm"),  # a data prep on a Ray profile is one plain task
        ("docker", None, "nemo-run"),
        ("sky", None, "nemo-run"),
    ],
)
def test_backend_for_a_profile(write_env, profile: str, launcher: str | None, backend: str) -> None:
    write_env(ENV)
    prof = for_launcher(load_env_profile(profile), launcher)  # type: ignore[arg-type]
    assert backend_for(prof).name == backend


@pytest.mark.parametrize(
    ("executor", "backend"), [("local", "local"), ("slurm", "slurm"), ("docker", "nemo-run")]
)
def test_backend_of_a_record(executor: str, backend: str) -> None:
    record = JobRecord(
        id="j", name="j", profile="p", executor=executor, command=[], launched_by=[], created_at=""
    )
    assert backend_of(record).name == backend


def test_only_the_backends_module_branches_on_a_recorded_executor_kind() -> None:
    """`record.executor == "slurm"`-style checks live in `_backends/__init__.py` only."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Compare)
                and isinstance(node.left, ast.Attribute)
                and node.left.attr == "executor"
            ):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert found and all(f.startswith("_backends/__init__.py:") for f in found), found
