"""Run planned shards on a local process pool, Ray, a Slurm array task, or in-process, with an
atomic done-ledger.

A worker function `fn(shard, params) -> dict` writes its outputs under the work folder and
returns small stats. The engine records each finished shard as `<work>/done/<shard id>.json`
(written to a temporary name and renamed, so it exists only when the shard's files are
complete). A rerun skips recorded shards, so a run killed at any point resumes and ends with
the same bytes. Outputs never depend on which worker ran a shard or in which order.
`engine=slurm-array` (see `_slurm_array`): an array task runs its share of the plan on the local
pool and stops the stage with `ArrayTaskDone`; the merge job runs as `local`.
"""

from __future__ import annotations

import functools
import json
import os
import pickle
import queue
from collections.abc import Callable
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from nemotron.recipes.nano3.data_prep._progress import Progress
from nemotron.recipes.nano3.data_prep._slurm_array import (
    ArrayTaskDone,
    array_share,
    array_task_id,
    tagged,
)
from nemotron.recipes.nano3.data_prep._sources import Shard
from nemotron.recipes.nano3.data_prep.errors import (
    DataPrepConfigError,
    OptionalDependencyError,
    ShardFailedError,
)

if TYPE_CHECKING:
    from nemotron.recipes.nano3.data_prep._common import EngineConfig

P = TypeVar("P")
WorkFn = Callable[[Shard, Any], dict[str, Any]]
ENGINES = ("local", "ray", "slurm-array")


def default_workers() -> int:
    """All cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary sibling, then rename over `path`."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _run_and_record(fn: WorkFn, shard: Shard, params: Any, done_dir: Path) -> dict[str, Any]:
    result = fn(shard, params)
    write_json_atomic(done_dir / f"{shard.id}.json", result)
    return result


def run_shards(
    shards: list[Shard],
    fn: WorkFn,
    params: Any,
    work_dir: Path,
    run: EngineConfig,
    *,
    progress: Progress,
    after_each: Callable[[], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run `fn` on every shard not yet recorded as done; return every shard's stats by id.

    `run` says where shards run (`run.engine`, `run.workers`, ...). `after_each` is called in
    this process after every finished shard; an error it raises stops the run (helpers finish
    their current shard). With `engine="slurm-array"`, `array_role` `task` runs this array
    task's share and raises `ArrayTaskDone`; `merge` runs as `local`.
    """
    engine, array_role = run.engine, run.array_role
    if engine not in ENGINES:
        raise DataPrepConfigError(
            "run.engine", f"must be one of {', '.join(ENGINES)}, got {engine!r}"
        )
    if engine == "slurm-array" and array_role not in ("task", "merge"):
        raise DataPrepConfigError(
            "run.engine",
            "slurm-array is submitted by the stage script (python -m "
            "nemotron.recipes.nano3.data_prep.<stage> or nemotron nano3 data prep <stage>), "
            "not from run_pretrain/run_sft/run_rl",
        )
    done_dir = work_dir / "done"
    done_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, Any]] = {}
    for shard in shards:
        record = done_dir / f"{shard.id}.json"
        if record.exists():
            results[shard.id] = json.loads(record.read_text())
    pending = [s for s in shards if s.id not in results]
    task = array_task_id() if engine == "slurm-array" and array_role == "task" else None
    if task is not None:
        mine = {s.id for s in array_share(shards, task, run.array_tasks)}
        pending = [s for s in pending if s.id in mine]
        tag = {"array_task": task, "array_job": os.environ.get("SLURM_ARRAY_JOB_ID")}
        fn = functools.partial(tagged, fn, tag)
    progress.skipped(len(shards) - len(pending), sum(s.size for s in shards if s.id in results))
    workers = max(1, run.workers or default_workers())

    def finished(shard: Shard, result: dict[str, Any]) -> None:
        results[shard.id] = result
        progress.advance(result.get("documents", 0), result.get("tokens", 0), shard.size)
        if after_each is not None:
            after_each()

    if engine == "ray":
        _run_ray(pending, fn, params, done_dir, workers, run.ray_address, finished)
    elif workers == 1 or len(pending) <= 1:
        for shard in pending:
            finished(shard, _run_and_record(fn, shard, params, done_dir))
    else:
        _run_pool(pending, fn, params, done_dir, workers, finished)
    if task is not None:
        raise ArrayTaskDone(task, len(mine))
    return {s.id: results[s.id] for s in shards}


def _run_pool(
    pending: list[Shard],
    fn: WorkFn,
    params: Any,
    done_dir: Path,
    workers: int,
    finished: Callable[[Shard, dict[str, Any]], None],
) -> None:
    """This process works through the shards itself; `workers - 1` helper processes join in.

    Shards are claimed one at a time from a shared counter, so a helper takes work only once it
    has started (a fresh interpreter: imports, encoder set-up). A job shorter than a process
    start-up is then never slower than one worker, and a long one uses every core.
    """
    # Largest shards first keeps the tail short; the output order is fixed by the plan anyway.
    order = sorted(pending, key=lambda s: -s.size)
    context = get_context("spawn")  # fork is unsafe with the threads progress or encoders start
    claim = context.Value("q", 0)
    results = context.Queue()
    helpers = [
        context.Process(
            target=_helper,
            args=(fn, params, done_dir, order, claim, results, os.getpid()),
            daemon=True,
        )
        for _ in range(min(workers, len(order)) - 1)
    ]
    for helper in helpers:
        helper.start()
    remaining = set(range(len(order)))

    def record(index: int, result: dict[str, Any] | None, error: BaseException | None) -> None:
        if error is not None:
            raise error
        assert result is not None
        remaining.discard(index)
        finished(order[index], result)

    try:
        while (index := _claim(claim, len(order))) is not None:
            record(index, _run_and_record(fn, order[index], params, done_dir), None)
            while not results.empty():
                record(*results.get())
        while remaining:
            try:
                record(*results.get(timeout=0.2))
            except queue.Empty:
                _check_helpers(helpers, results, order, remaining)
    finally:
        with claim.get_lock():
            claim.value = len(order)  # on an error: helpers stop after their current shard
        for helper in helpers:
            helper.join(timeout=None if not remaining else 5)
            if helper.is_alive():
                helper.terminate()
        results.close()


def _claim(counter: Any, total: int) -> int | None:
    with counter.get_lock():
        index = int(counter.value)
        if index >= total:
            return None
        counter.value = index + 1
        return index


def _helper(
    fn: WorkFn,
    params: Any,
    done_dir: Path,
    order: list[Shard],
    claim: Any,
    results: Any,
    parent: int,
) -> None:
    """A helper process: claim and run shards until none are left (or the parent is gone)."""
    while os.getppid() == parent and (index := _claim(claim, len(order))) is not None:
        try:
            results.put((index, _run_and_record(fn, order[index], params, done_dir), None))
        except BaseException as err:
            results.put((index, None, _portable(err, order[index])))
            return


def _portable(err: BaseException, shard: Shard) -> BaseException:
    """`err` if it survives pickling, else a ShardFailedError carrying its text."""
    try:
        pickle.loads(pickle.dumps(err))
    except Exception:
        return ShardFailedError(shard.id, f"{type(err).__name__}: {err}")
    return err


def _check_helpers(
    helpers: list[Any], results: Any, order: list[Shard], remaining: set[int]
) -> None:
    """Raise when a helper died (killed, out of memory) with shards still unreported."""
    if not results.empty():
        return
    dead = [h for h in helpers if h.exitcode not in (None, 0)]
    if dead or not any(h.is_alive() for h in helpers):
        pending = ", ".join(order[i].id for i in sorted(remaining)[:3])
        code = dead[0].exitcode if dead else 0
        raise ShardFailedError(pending, f"a worker process exited with code {code}")


def _run_ray(
    pending: list[Shard],
    fn: WorkFn,
    params: Any,
    done_dir: Path,
    workers: int,
    address: str | None,
    finished: Callable[[Shard, dict[str, Any]], None],
) -> None:
    # Under `uv run`, Ray would start its workers through `uv run` again; use this interpreter.
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    try:
        import ray
    except ImportError as err:
        raise OptionalDependencyError("engine=ray", "ray") from err
    if not ray.is_initialized():
        ray.init(
            address=address,
            num_cpus=None if address else workers,
            include_dashboard=False,
            log_to_driver=False,
        )
    remote = ray.remote(num_cpus=1)(_run_and_record)
    refs = {remote.remote(fn, s, params, done_dir): s for s in pending}
    while refs:
        ready, _ = ray.wait(list(refs), num_returns=1)
        for ref in ready:
            finished(refs.pop(ref), ray.get(ref))
