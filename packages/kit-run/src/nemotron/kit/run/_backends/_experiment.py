"""What the backends built on a NeMo-Run `Experiment` share (Slurm, Docker, SkyPilot, ...).

One experiment per job, holding one NeMo-Run job that runs the request's command. Files shipped
with the job are written into NeMo-Run's job dir when it prepares the job (see `_shipping`), and
the command's placeholders become their job-side paths. NeMo-Run's console output goes to
`nemo_run.log` in the job record, secrets masked. Where NeMo-Run writes the command into a
shell script as words joined by spaces (Slurm's srun line), each word is quoted first.
"""

from __future__ import annotations

import io
import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nemotron.kit.run import _nemo_run as nr
from nemotron.kit.run._records import write_atomic
from nemotron.kit.run._shipping import placeholder, ship_into_job_dir, substitute
from nemotron.kit.run.errors import ExecutorError

if TYPE_CHECKING:
    from nemotron.kit.run._job import Job
    from nemotron.kit.run._request import LaunchRequest

__all__ = ["ExperimentRun"]


class ExperimentRun:
    """One job's NeMo-Run experiment: built, dry-run or run, then closed."""

    def __init__(self, job: Job, request: LaunchRequest, *, shell_text: bool = False) -> None:
        self.job = job
        self.request = request
        self.shell_text = shell_text
        """NeMo-Run joins the command's words into shell text unquoted: quote them."""
        self._task_ready = False
        self.log = io.StringIO()
        self.exp: Any = None

    @property
    def nr_job(self) -> Any:
        return self.exp.jobs[0]

    def start(self, executor: Any, go: Callable[[Any], None] | None) -> None:
        """Build the experiment and run `go(exp)` (None: a dry run); failures are recorded."""
        job, request = self.job, self.request
        record = job.record
        try:
            with nr.quiet_io(self.log):
                self.exp = nr.experiment(record.name, executor, request.command)
                if request.files or self.shell_text:
                    nr.on_prepare(self.nr_job, self._prepare_task)
                if go is None:
                    self.exp.dryrun(log=False)
                else:
                    go(self.exp)
        except Exception as err:
            self.write_log()
            job._finish("FAILED", None, f"submission failed: {err}")
            what = "render" if go is None else "submit"
            raise ExecutorError(f"job {job.id}: NeMo-Run could not {what} it: {err}") from err
        self.write_log()
        record.experiment_id, record.experiment_dir = nr.experiment_ids(self.exp)

    def _prepare_task(self, nr_job: Any) -> None:
        """The task's final words: shipped files' paths, then quoted where they become shell.

        NeMo-Run prepares a job again when it runs it (`run` after its own dry run): once.
        """
        if self._task_ready:
            return
        self._task_ready = True
        if self.request.files:
            self._ship(nr_job)
        if self.shell_text:
            task = nr_job.task
            task.entrypoint, task.path = shlex.quote(task.entrypoint), shlex.quote(task.path)
            task.args = [shlex.quote(arg) for arg in task.args]

    def _ship(self, nr_job: Any) -> None:
        job, files = self.job, self.request.files
        nr_job.executor.create_job_dir()
        paths = ship_into_job_dir(nr_job.executor, files)
        nr_job.task.path = paths.get(nr_job.task.path, nr_job.task.path)
        nr_job.task.args = substitute(nr_job.task.args, paths)
        record = job.record
        record.command = substitute(record.command, paths)
        record.files = {paths[placeholder(f)]: str(job.folder / "files" / f.name) for f in files}

    def rendered(self) -> str:
        """Exactly what NeMo-Run would submit: the sbatch script, or the command and env."""
        request = self.request
        info, script = nr.rendered_request(self.nr_job)
        if script is not None:
            return script
        lines = [f"# {type(self.nr_job.executor).__name__} would run:"]
        lines += [f"export {k}={shlex.quote(v)}" for k, v in sorted(request.plain_env.items())]
        lines += [
            f"# {k} is passed through the environment (secret)" for k in sorted(request.secret_env)
        ]
        lines.append(shlex.join(self.job.record.command))
        if info is not None:
            described = nr.describe_request(info).splitlines()
            lines += ["", "# NeMo-Run request:", *(f"# {line}" for line in described)]
        return "\n".join(lines) + "\n"

    def close(self) -> None:
        """Leave the experiment (its console output joins `nemo_run.log`)."""
        if self.exp is None:
            return
        with nr.quiet_io(self.log):
            nr.close(self.exp)
        self.write_log()

    def write_log(self) -> None:
        text = self.log.getvalue()
        if text.strip():
            write_atomic(self.job.folder / "nemo_run.log", self.request.mask(text))
