"""Where things live: the project root, env.toml, and the job records folder."""

from __future__ import annotations

import os
from pathlib import Path

ENV_FILE_NAME = "env.toml"


def _is_workspace_root(folder: Path) -> bool:
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        return "[tool.uv.workspace]" in pyproject.read_text(encoding="utf-8")
    except OSError:
        return False


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` holding `.git` or a workspace pyproject.toml.

    Falls back to the nearest folder with any pyproject.toml, then to `start` itself.
    """
    start = (start or Path.cwd()).resolve()
    candidates = [start, *start.parents]
    for folder in candidates:
        if (folder / ".git").exists() or _is_workspace_root(folder):
            return folder
    for folder in candidates:
        if (folder / "pyproject.toml").is_file():
            return folder
    return start


def env_file_search_path(start: Path | None = None) -> list[Path]:
    """The env.toml locations looked at, nearest first, up to the project root."""
    start = (start or Path.cwd()).resolve()
    root = project_root(start)
    folders = [start]
    for folder in start.parents:
        if root not in (folder, *folder.parents):
            break
        folders.append(folder)
    return [folder / ENV_FILE_NAME for folder in folders]


def find_env_file(env_file: str | os.PathLike[str] | None = None) -> Path | None:
    """Locate env.toml: `env_file`, else `$NEMOTRON_ENV_FILE`, else walk up to the project root.

    An explicit path (argument or variable) is returned even when it does not exist, so the
    caller can say which file is missing; the walk returns None when nothing is found.
    """
    explicit = env_file or os.environ.get("NEMOTRON_ENV_FILE")
    if explicit:
        return Path(explicit).expanduser().resolve()
    for candidate in env_file_search_path():
        if candidate.is_file():
            return candidate
    return None


def jobs_dir() -> Path:
    """Folder of job records: `$NEMOTRON_JOBS_DIR`, else `<project root>/.nemotron/jobs`."""
    override = os.environ.get("NEMOTRON_JOBS_DIR")
    if override:
        return Path(override).expanduser().resolve()
    return project_root() / ".nemotron" / "jobs"
