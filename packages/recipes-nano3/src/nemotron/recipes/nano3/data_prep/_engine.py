"""Run planned shards on a local process pool, Ray, a Slurm array task, or in-process, with an
atomic done-ledger.

A worker function `fn(shard, params) -> dict` writes its outputs under the work folder and
returns small stats. A `ReadAhead` worker comes in parts that overlap: reading and decoding
input runs on a thread ahead of the work (tokenizing), and a shard's last writes finish while
the next shard is worked on. The engine records each finished shard as `<work>/done/<id>.json`
(written to a temporary name and renamed, so it exists only when the shard's files are
complete). A rerun skips recorded shards, so a run killed at any point resumes and ends with
the same bytes. Outputs never depend on which worker ran a shard or in which order.
`engine=slurm-array` (see `_slurm_array`): an array task runs its share of the plan on the local
pool and stops the stage with `ArrayTaskDone`; the merge job runs as `local`.
"""

from __future__ import annotations

import json
import os
import pickle
import queue
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nemotron.recipes.nano3.data_prep._config import ENGINES
from nemotron.recipes.nano3.data_prep._progress import Progress
from nemotron.recipes.nano3.data_prep._slurm_array import (
    ArrayTaskDone,
    array_share,
    array_task_id,
)
from nemotron.recipes.nano3.data_prep._sources import Shard
from nemotron.recipes.nano3.data_prep.errors import (
    DataPrepConfigError,
    OptionalDependencyError,
    ShardFailedError,
)

if TYPE_CHECKING:
    from nemotron.recipes.nano3.data_prep._config import EngineConfig

_READ_AHEAD = 4
"""Items `ReadAhead.read` may run ahead of `ReadAhead.work` (bounds the memory it holds)."""


@dataclass(frozen=True)
class ReadAhead:
    """A worker function in parts that overlap: `read(shard, params)` yields the shard's input
    on a thread, running ahead into the worker's next shard; `work(shard, params, items)`
    consumes it (every item, in order) and returns `finish`, which the engine calls once the
    next shard's `work` is done (or at the end): it completes the shard's outputs and returns
    its stats."""

    read: Callable[[Shard, Any], Iterable[Any]]
    work: Callable[[Shard, Any, Iterator[Any]], Callable[[], dict[str, Any]]]


WorkFn = Callable[[Shard, Any], dict[str, Any]] | ReadAhead


def default_workers() -> int:
    """All cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary sibling, then rename over `path`."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _run_claimed(
    fn: WorkFn, claims: Iterator[Shard], params: Any, done_dir: Path, tag: dict[str, Any]
) -> Generator[tuple[Shard, dict[str, Any]], None, None]:
    """Run each shard `claims` yields, in turn, and record it as done."""
    if not isinstance(fn, ReadAhead):
        for shard in claims:
            yield shard, _record(shard, fn(shard, params), done_dir, tag)
        return
    finishing: list[tuple[Shard, Callable[[], dict[str, Any]]]] = []
    try:
        with _read_ahead(fn.read, claims, params) as inputs:
            for shard, items in inputs:
                finishing.append((shard, fn.work(shard, params, items)))
                if len(finishing) == 2:
                    done, finish = finishing.pop(0)
                    yield done, _record(done, finish(), done_dir, tag)
    except BaseException:  # a later shard failed: keep the complete one for a rerun
        for done, finish in finishing:
            _record(done, finish(), done_dir, tag)
        raise
    for done, finish in finishing:
        yield done, _record(done, finish(), done_dir, tag)


def _record(
    shard: Shard, result: dict[str, Any], done_dir: Path, tag: dict[str, Any]
) -> dict[str, Any]:
    """Write the shard's done record: its stats plus `tag` (which array task ran it)."""
    result = {**result, **tag}
    write_json_atomic(done_dir / f"{shard.id}.json", result)
    return result


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_START, _END = object(), object()


@contextmanager
def _read_ahead(
    read: Callable[[Shard, Any], Iterable[Any]], claims: Iterator[Shard], params: Any
) -> Iterator[Iterator[tuple[Shard, Iterator[Any]]]]:
    """(shard, its items) for each shard `claims` yields; a thread claims and reads ahead."""
    ahead: queue.Queue[tuple[Shard | None, Any]] = queue.Queue(_READ_AHEAD)
    stop = threading.Event()

    def put(shard: Shard | None, item: Any) -> None:
        while not stop.is_set():
            try:
                ahead.put((shard, item), timeout=0.1)
                return
            except queue.Full:
                continue

    def produce() -> None:
        try:
            for shard in claims:
                put(shard, _START)
                for item in read(shard, params):
                    put(shard, item)
                put(shard, _END)
        except BaseException as err:
            put(None, _Failed(err))
        put(None, _END)

    def take() -> tuple[Shard | None, Any]:
        shard, item = ahead.get()
        if isinstance(item, _Failed):
            raise item.error
        return shard, item

    def items() -> Iterator[Any]:
        while (item := take()[1]) is not _END:
            yield item

    def shards() -> Iterator[tuple[Shard, Iterator[Any]]]:
        while (shard := take()[0]) is not None:  # at a _START
            current = items()
            yield shard, current
            for _ in current:  # what `work` left unread
                pass

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        yield shards()
    finally:
        stop.set()
        thread.join()


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
    tag: dict[str, Any] = {}
    if task is not None:
        mine = {s.id for s in array_share(shards, task, run.array_tasks)}
        pending = [s for s in pending if s.id in mine]
        tag = {"array_task": task, "array_job": os.environ.get("SLURM_ARRAY_JOB_ID")}
    progress.skipped(len(shards) - len(pending), sum(s.size for s in shards if s.id in results))
    workers = max(1, run.workers or default_workers())

    def finished(shard: Shard, result: dict[str, Any]) -> None:
        results[shard.id] = result
        progress.advance(result.get("documents", 0), result.get("tokens", 0), shard.size)
        if after_each is not None:
            after_each()

    if engine == "ray":
        _run_ray(pending, fn, params, done_dir, tag, workers, run.ray_address, finished)
    elif workers == 1 or len(pending) <= 1:
        with closing(_run_claimed(fn, iter(pending), params, done_dir, tag)) as ran:
            for shard, result in ran:
                finished(shard, result)
    else:
        _run_pool(pending, fn, params, done_dir, tag, workers, finished)
    if task is not None:
        raise ArrayTaskDone(task, len(mine))
    return {s.id: results[s.id] for s in shards}


def _run_pool(
    pending: list[Shard],
    fn: WorkFn,
    params: Any,
    done_dir: Path,
    tag: dict[str, Any],
    workers: int,
    finished: Callable[[Shard, dict[str, Any]], None],
) -> None:
    """This process works through the shards itself; `workers - 1` helper processes join in.

    Shards are claimed one at a time from a shared counter, so a helper takes work only once it
    has started (a fresh interpreter: imports, encoder set-up). A job shorter than a process
    start-up is then never slower than one worker, and a long one uses every core. (A
    `ReadAhead` worker claims its next shard while finishing the current one.)
    """
    # Largest shards first keeps the tail short; the output order is fixed by the plan anyway.
    order = sorted(pending, key=lambda s: -s.size)
    by_id = {s.id: s for s in order}
    context = get_context("spawn")  # fork is unsafe with the threads progress or encoders start
    claim = context.Value("q", 0)
    results = context.Queue()
    helpers = [
        context.Process(
            target=_helper,
            args=(fn, params, done_dir, tag, order, claim, results, os.getpid()),
            daemon=True,
        )
        for _ in range(min(workers, len(order)) - 1)
    ]
    for helper in helpers:
        helper.start()
    remaining = set(by_id)

    def record(
        shard_id: str | None, result: dict[str, Any] | None, error: BaseException | None
    ) -> None:
        if error is not None:
            raise error
        assert shard_id is not None and result is not None
        remaining.discard(shard_id)
        finished(by_id[shard_id], result)

    try:
        with closing(_run_claimed(fn, _claims(claim, order), params, done_dir, tag)) as ran:
            for shard, result in ran:
                record(shard.id, result, None)
                while not results.empty():
                    record(*results.get())
        while remaining:
            try:
                record(*results.get(timeout=0.2))
            except queue.Empty:
                _check_helpers(helpers, results, remaining)
    finally:
        with claim.get_lock():
            claim.value = len(order)  # on an error: helpers stop after their current shard
        for helper in helpers:
            helper.join(timeout=None if not remaining else 5)
            if helper.is_alive():
                helper.terminate()
        results.close()


def _claims(counter: Any, order: list[Shard], parent: int | None = None) -> Iterator[Shard]:
    """Shards of `order` claimed one by one from the shared `counter` (until none are left, or
    the `parent` process is gone)."""
    while parent is None or os.getppid() == parent:
        with counter.get_lock():
            index = int(counter.value)
            if index >= len(order):
                return
            counter.value = index + 1
        yield order[index]


def _helper(
    fn: WorkFn,
    params: Any,
    done_dir: Path,
    tag: dict[str, Any],
    order: list[Shard],
    claim: Any,
    results: Any,
    parent: int,
) -> None:
    """A helper process: claim and run shards until none are left (or the parent is gone)."""
    claimed: deque[Shard] = deque()  # shards are worked on in the order they were claimed

    def claims() -> Iterator[Shard]:
        for shard in _claims(claim, order, parent):
            claimed.append(shard)
            yield shard

    try:
        for shard, result in _run_claimed(fn, claims(), params, done_dir, tag):
            claimed.popleft()
            results.put((shard.id, result, None))
    except BaseException as err:
        results.put((None, None, _portable(err, claimed[0] if claimed else None)))


def _portable(err: BaseException, shard: Shard | None) -> BaseException:
    """`err` if it survives pickling, else a ShardFailedError carrying its text."""
    try:
        pickle.loads(pickle.dumps(err))
    except Exception:
        return ShardFailedError(shard.id if shard else "?", f"{type(err).__name__}: {err}")
    return err


def _check_helpers(helpers: list[Any], results: Any, remaining: set[str]) -> None:
    """Raise when a helper died (killed, out of memory) with shards still unreported."""
    if not results.empty():
        return
    dead = [h for h in helpers if h.exitcode not in (None, 0)]
    if dead or not any(h.is_alive() for h in helpers):
        pending = ", ".join(sorted(remaining)[:3])
        code = dead[0].exitcode if dead else 0
        raise ShardFailedError(pending, f"a worker process exited with code {code}")


def _run_ray(
    pending: list[Shard],
    fn: WorkFn,
    params: Any,
    done_dir: Path,
    tag: dict[str, Any],
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
    remote = ray.remote(num_cpus=1)(_run_one)
    refs = {remote.remote(fn, s, params, done_dir, tag): s for s in pending}
    while refs:
        ready, _ = ray.wait(list(refs), num_returns=1)
        for ref in ready:
            finished(refs.pop(ref), ray.get(ref))


def _run_one(
    fn: WorkFn, shard: Shard, params: Any, done_dir: Path, tag: dict[str, Any]
) -> dict[str, Any]:
    """Run and record one shard (a Ray task)."""
    [(_, result)] = _run_claimed(fn, iter([shard]), params, done_dir, tag)
    return result
