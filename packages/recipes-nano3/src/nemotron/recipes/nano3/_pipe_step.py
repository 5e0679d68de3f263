"""`python -m nemotron.recipes.nano3._pipe_step --alias A -- MODULE ARGS...`: one pipe step.

Runs the stage module, then (rank 0, on success) points the alias `A` at every artifact version
this run published (`producer.run_id == NEMOTRON_RUN_ID`, set by kit-run per job). Later steps of
the same pipe read `art://<name>:A`: exactly the version this step produced, whatever other
runs publish meanwhile. Works for any stage, so the data-prep stages need no pipe support.

It lives outside `train` and runs the stage in its own process (`runpy`, as `-m` does): every
pipe step pays this wrapper's start-up, so it imports nothing the stage does not need.
"""

from __future__ import annotations

import os
import sys

__all__ = ["alias_run_outputs", "main", "run_module"]


def alias_run_outputs(run_id: str, alias: str) -> list[str]:
    """Point `alias` at each artifact version published by `run_id`; return their URIs."""
    from nemotron.kit.artifacts import get_registry

    registry = get_registry()
    pinned = []
    for artifact in registry.produced_by(run_id):
        assert artifact.name is not None  # produced_by returns published versions
        registry.alias(artifact.name, artifact.version, alias)
        pinned.append(artifact.uri)
    return pinned


def run_module(command: list[str]) -> None:
    """Run `python -m <command>` in this process, as `-m` would; return if the stage succeeded.

    In-process, not a child interpreter: the stage has already imported the registry the alias
    needs, so a step costs one interpreter start-up, not two plus a second registry import.
    Any other end (a non-zero `SystemExit`, an exception) propagates: that exit code or a
    traceback and exit code 1, and no alias.
    """
    import runpy

    sys.argv = list(command)
    try:
        runpy.run_module(command[0], run_name="__main__", alter_sys=True)
    except SystemExit as end:
        if end.code not in (None, 0):
            raise


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[0] != "--alias" or argv[2] != "--":
        print(
            "usage: python -m nemotron.recipes.nano3._pipe_step --alias A -- MODULE ARGS...",
            file=sys.stderr,
        )
        return 2
    alias, command = argv[1], argv[3:]
    run_module(command)
    if int(os.environ.get("RANK", "0")) != 0:
        return 0
    run_id = os.environ.get("NEMOTRON_RUN_ID", "")
    pinned = alias_run_outputs(run_id, alias) if run_id else []
    print(f"pipe step {command[0]}: {alias} -> {', '.join(pinned) or 'nothing published'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
