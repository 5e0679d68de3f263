"""Every command and code block in README.md, docs/ and the package READMEs runs as written.

How blocks are treated (the rules are here so that docs stay runnable as others edit them):
- ```bash / sh / shell / console: each command (a line, `\\` continuations joined; comments and
  blank lines skipped) runs with bash, in order, and must exit 0. A block with a here-document
  (`<<`) runs as one `bash -e` script instead (keep `pip install` lines out of such blocks).
- ```python: run as a script, unless its first line is `# <file>.py`: then it is written to that
  file (a tutorial's `train.py`) for later commands to run.
- any block whose first line is `# <file>.<ext>` (yaml, toml, json, ...) is written to that file.
- other blocks (no language: output, trees, usage; yaml/toml/json without a file name) are not run.
- A block preceded by `<!-- docs-test: skip: REASON -->` is not run; the reason is reported as
  the skip reason. Use it only for what cannot run here (a real cluster, a GPU, W&B servers) and
  say which.
- Two kinds of commands are skipped inside runnable blocks, because running them here would
  test something else: `pip install ...` (this test runs in the installed workspace; the wheels
  are tested by tests/test_wheels.py) and `scripts/test` (the suite itself).

Each document gets one fresh project folder (own registry, job records, $HOME, `output/`), shared
by its blocks in order, so a document can build on its earlier blocks like a tutorial.
`python`, `nemotron` are this environment's (its bin/ first on PATH); `uv run CMD` runs CMD in
it (a `uv` shim: the environment is already synced).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHELL_LANGS = {"bash", "sh", "shell", "console"}
PYTHON_LANGS = {"python", "py"}
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")
_SKIP = re.compile(r"^<!--\s*docs-test:\s*skip:\s*(.+?)\s*-->$")
_FILE_HEADER = re.compile(r"^(?:#|//)\s*([\w./-]+\.[A-Za-z0-9]+)\s*$")
_NOT_RUN = (
    (re.compile(r"^pip install\b"), "installs from PyPI (the wheels are tested by test_wheels)"),
    (re.compile(r"^scripts/test\b"), "runs the whole test suite"),
)
COMMAND_TIMEOUT_S = 600


@dataclass
class Block:
    doc: Path
    line: int
    lang: str
    text: str
    skip: str | None

    @property
    def where(self) -> str:
        doc = self.doc.relative_to(ROOT) if self.doc.is_relative_to(ROOT) else self.doc
        return f"{doc}:{self.line}"

    @property
    def file_name(self) -> str | None:
        first = self.text.splitlines()[0] if self.text.strip() else ""
        match = _FILE_HEADER.match(first.strip())
        return match[1] if match else None


def documents() -> list[Path]:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return docs + sorted(ROOT.glob("packages/*/README.md"))


def blocks(doc: Path) -> list[Block]:
    lines = doc.read_text(encoding="utf-8").splitlines()
    found = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        indent, fence, lang = match[1], match[2], match[3].lower()
        end = i + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        previous = next((lines[k].strip() for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        skip = _SKIP.match(previous)
        body = textwrap.dedent("\n".join(line.removeprefix(indent) for line in lines[i + 1 : end]))
        found.append(Block(doc, i + 1, lang, body + "\n", skip[1] if skip else None))
        i = end + 1
    return found


def commands(text: str) -> list[str]:
    """Shell commands of a block: continuation lines joined, comments and blanks dropped."""
    out: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        out.append((pending + line).strip().removeprefix("$ "))
        pending = ""
    return out


def _sandbox(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    work = tmp_path / "project"
    (work / ".git").mkdir(parents=True)  # env.toml discovery stops here
    (work / "home").mkdir()
    shims = tmp_path / "bin"
    shims.mkdir()
    (shims / "uv").write_text('#!/bin/sh\n[ "$1" = run ] && shift && exec "$@"\nexec uv "$@"\n')
    (shims / "uv").chmod(0o755)
    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(shims), str(venv_bin), os.environ.get("PATH", "")]),
        "HOME": str(work / "home"),
        "NEMOTRON_ARTIFACTS_ROOT": str(work / "registry"),
        "NEMOTRON_JOBS_DIR": str(work / ".nemotron" / "jobs"),
        "OMP_NUM_THREADS": "1",
        "COLUMNS": "120",
    }
    env.pop("NEMOTRON_FULL_ERROR", None)
    env.pop("NEMOTRON_ENV_FILE", None)
    return work, env


def _run(argv: list[str], work: Path, env: dict[str, str], where: str, shown: str) -> None:
    proc = subprocess.run(
        argv,
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        pytest.fail(f"{where}: `{shown}` exited {proc.returncode}\n{tail}", pytrace=False)


def _not_run(command: str) -> str | None:
    return next((why for rule, why in _NOT_RUN if rule.match(command)), None)


def test_the_block_parser_reads_fences_markers_and_commands(tmp_path: Path) -> None:
    doc = tmp_path / "d.md"
    doc.write_text(
        "x\n<!-- docs-test: skip: needs a Slurm cluster -->\n```bash\nsbatch x\n```\n"
        "  ```python\n  # train.py\n  print(1)\n  ```\n```\nplain\n```\n"
    )
    found = blocks(doc)
    assert [(b.lang, b.skip, b.file_name) for b in found] == [
        ("bash", "needs a Slurm cluster", None),
        ("python", None, "train.py"),
        ("", None, None),
    ]
    assert commands("# c\na \\\n  b  # x\n\n$ c\n") == ["a    b  # x", "c"]
    assert _not_run("pip install kit-cli") and not _not_run("python -m pip list")


def run_document(doc: Path, tmp_path: Path) -> tuple[Path, int, list[str]]:
    """Run every block of `doc` in a fresh project folder: (folder, blocks run, skipped)."""
    work, env = _sandbox(tmp_path)
    skipped = []
    ran = 0
    for block in blocks(doc):
        if block.skip is not None:
            skipped.append(f"{block.where}: {block.skip}")
            continue
        if block.file_name is not None:
            target = work / block.file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
            continue
        if block.lang in PYTHON_LANGS:
            script = work / f"_block_{block.line}.py"
            script.write_text(block.text, encoding="utf-8")
            _run([sys.executable, script.name], work, env, block.where, "python block")
            ran += 1
        elif block.lang in SHELL_LANGS and "<<" in block.text:
            _run(["bash", "-e", "-c", block.text], work, env, block.where, "the block")
            ran += 1
        elif block.lang in SHELL_LANGS:
            for command in commands(block.text):
                if _not_run(command) is None:
                    _run(["bash", "-c", command], work, env, block.where, command)
                    ran += 1
    return work, ran, skipped


def test_the_runner_writes_files_runs_in_order_and_fails_on_a_bad_command(tmp_path: Path) -> None:
    doc = tmp_path / "tutorial.md"
    doc.write_text(
        "```yaml\n# conf/c.yaml\nlr: 1\n```\n"
        "```bash\ncat > notes.txt <<EOF\nhello\nEOF\n```\n```sh\npip install nothing-at-all\n```\n"
        "```python\nfrom pathlib import Path\nassert Path('conf/c.yaml').is_file()\n"
        "Path('out.txt').write_text(Path('notes.txt').read_text())\n```\n"
        "<!-- docs-test: skip: needs a real Slurm cluster -->\n```bash\nsbatch job.sh\n```\n"
    )
    work, ran, skipped = run_document(doc, tmp_path / "a")
    assert (work / "out.txt").read_text() == "hello\n" and ran == 2
    assert len(skipped) == 1 and skipped[0].endswith("tutorial.md:19: needs a real Slurm cluster")
    doc.write_text("```bash\ntrue\nfalse  # fails\n```\n")
    with pytest.raises(pytest.fail.Exception, match="`false  # fails` exited 1"):
        run_document(doc, tmp_path / "b")


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a tutorial runs several stages; each command has its own limit
@pytest.mark.parametrize("doc", documents(), ids=lambda d: str(d.relative_to(ROOT)))
def test_every_block_of_the_document_runs(doc: Path, tmp_path: Path) -> None:
    _, ran, skipped = run_document(doc, tmp_path)
    if skipped and not ran:
        pytest.skip("; ".join(skipped))
    for item in skipped:  # visible with -rA; the blocks that did run passed
        print(f"not run: {item}")


def test_markers_name_a_reason() -> None:
    """A skip marker without a real reason would silently exempt a block."""
    for doc in documents():
        for block in blocks(doc):
            if block.skip is not None:
                assert len(block.skip) >= 12, f"{block.where}: say why it cannot run here"


def test_shell_blocks_do_not_hide_commands_in_quotes() -> None:
    """Every shell command of the docs parses as shell (a broken quote would skip lines)."""
    for doc in documents():
        for block in blocks(doc):
            if block.lang in SHELL_LANGS and block.skip is None:
                for command in commands(block.text):
                    shlex.split(command, comments=True)
