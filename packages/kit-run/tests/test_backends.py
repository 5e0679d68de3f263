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
    container_image = "img"
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


def _kind_checks(path: Path) -> list[str]:
    """Comparisons of an executor kind: `x.executor == ...`, `profile_kind(p) == ...`."""

    def is_kind(node: ast.expr) -> bool:
        if isinstance(node, ast.Attribute):
            return node.attr == "executor"
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "profile_kind"
        )

    return [
        f"{path.name}:{node.lineno}"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Compare) and any(map(is_kind, [node.left, *node.comparators]))
    ]


def test_nothing_branches_on_an_executor_kind_but_the_backend_table(tmp_path: Path) -> None:
    """Which backend serves a kind is `_backends._backend`'s table; nobody else compares kinds."""
    found = [hit for path in sorted(SRC.rglob("*.py")) for hit in _kind_checks(path)]
    assert found == []
    planted = tmp_path / "planted.py"
    planted.write_text('if job.record.executor == "slurm" or profile_kind(p) != "local": pass\n')
    assert len(_kind_checks(planted)) == 2  # the check sees both comparisons
