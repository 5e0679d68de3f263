"""The allowed package edges, read from the imports in every member's source (ast, no import):

    kit-cli -> kit-run -> kit-config -> kit-artifacts <- kit-lineage;  kit-cli -> kit-lineage
    recipes-* -> any kit package;  the meta-package -> everything

An arrow may be followed further down (kit-run may import kit-artifacts); nothing points up or
sideways (kit-run never imports kit-lineage or kit-cli), and no member imports another member's
private `_module` (its public names are the contract). Imports inside functions and under
`TYPE_CHECKING` count: they are edges all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KIT = {
    "artifacts": "kit-artifacts",
    "config": "kit-config",
    "run": "kit-run",
    "lineage": "kit-lineage",
    "cli": "kit-cli",
}
DIRECT = {
    "kit-artifacts": set(),
    "kit-config": {"kit-artifacts"},
    "kit-run": {"kit-config"},
    "kit-lineage": {"kit-artifacts"},
    "kit-cli": {"kit-run", "kit-lineage"},
}


def _allowed(member: str) -> set[str]:
    """Every member `member` may import: the closure of the arrows below it."""
    if member.startswith("recipes-"):
        return set(DIRECT)
    seen: set[str] = set()
    todo = list(DIRECT[member])
    while todo:
        target = todo.pop()
        if target not in seen:
            seen.add(target)
            todo.extend(DIRECT[target])
    return seen


def _owner(module: str) -> tuple[str | None, bool]:
    """(member owning `module`, whether it reaches into a private part of it)."""
    parts = module.split(".")
    if parts[:2] == ["nemotron", "kit"] and len(parts) > 2 and parts[2] in KIT:
        return KIT[parts[2]], any(p.startswith("_") for p in parts[3:])
    if parts[:2] == ["nemotron", "recipes"] and len(parts) > 2:
        return f"recipes-{parts[2]}", any(p.startswith("_") for p in parts[3:])
    return None, False


def _imports(file: Path) -> list[tuple[int, str]]:
    """(line, module) for every absolute import; `from a import b` gives `a` and `a.b`."""
    found = []
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"), str(file))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def edge_violations(packages: Path) -> list[str]:
    """One line per import that breaks the rules, `file:line: member -> module (why)`."""
    problems: dict[tuple[Path, int], str] = {}  # one per import statement
    for src in sorted(packages.glob("*/src")):
        member = src.parent.name
        allowed = _allowed(member) | {member}
        for file in sorted(src.rglob("*.py")):
            for line, module in _imports(file):
                owner, private = _owner(module)
                if owner is None or owner == member or (file, line) in problems:
                    continue
                where = f"{file.relative_to(packages)}:{line}: {member} -> {module}"
                if owner not in allowed:
                    problems[file, line] = f"{where} (not an allowed edge)"
                elif private:
                    problems[file, line] = f"{where} (private module of {owner})"
    return list(problems.values())


def test_members_import_only_downward_and_only_public_modules() -> None:
    members = {p.parent.name for p in (ROOT / "packages").glob("*/src")}
    assert set(DIRECT) <= members and any(m.startswith("recipes-") for m in members)
    assert edge_violations(ROOT / "packages") == []


@pytest.mark.parametrize(
    ("member", "source", "why"),
    [
        ("kit-run", "from nemotron.kit.lineage import LineageGraph\n", "not an allowed edge"),
        ("kit-artifacts", "import nemotron.kit.config\n", "not an allowed edge"),
        ("kit-lineage", "def f():\n    from nemotron.kit.cli import app\n", "not an allowed edge"),
        ("kit-cli", "from nemotron.kit.run._launch import launch\n", "private module of kit-run"),
        (
            "recipes-x",
            "from nemotron.kit.artifacts import _names\n",
            "private module of kit-artifacts",
        ),
        ("kit-config", "from nemotron.recipes.x import cli\n", "not an allowed edge"),
    ],
)
def test_the_check_catches_each_kind_of_violation(
    tmp_path: Path, member: str, source: str, why: str
) -> None:
    module = tmp_path / member / "src" / "nemotron" / "mod.py"
    module.parent.mkdir(parents=True)
    module.write_text(source)
    [problem] = edge_violations(tmp_path)
    assert problem.startswith(f"{member}/src/nemotron/mod.py:") and problem.endswith(f"{why})")


def test_public_downward_imports_pass(tmp_path: Path) -> None:
    module = tmp_path / "kit-cli" / "src" / "nemotron" / "mod.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "from nemotron.kit.run import launch\nfrom nemotron.kit.artifacts.secrets import redact\n"
        "from nemotron.kit.lineage import LineageGraph\nfrom nemotron.kit.cli._flow import x\n"
    )
    assert edge_violations(tmp_path) == []
