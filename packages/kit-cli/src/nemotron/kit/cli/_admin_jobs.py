"""`nemotron jobs list|status|logs|cancel`: jobs launched by stages (records in .nemotron/jobs)."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["jobs_app"]

jobs_app = typer.Typer(
    name="jobs",
    help="List launched jobs, follow their status and logs, cancel them.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

JobIdArg = Annotated[
    str, typer.Argument(metavar="JOB_ID", help="Job id (see `nemotron jobs list`).")
]


@jobs_app.command("list")
def list_(
    limit: Annotated[int, typer.Option("-n", "--limit", help="Show at most this many jobs.")] = 20,
    all_: Annotated[
        bool, typer.Option("-a", "--all", help="Also list dry runs (state DRY_RUN).")
    ] = False,
) -> None:
    """List recorded jobs, newest first; local jobs' states are checked against their processes."""
    from nemotron.kit.run import list_jobs

    jobs = [j for j in list_jobs() if all_ or j.state != "DRY_RUN"][:limit]
    if not jobs:
        typer.echo("no jobs recorded yet (stages record them under .nemotron/jobs)")
        return
    rows = [("JOB ID", "PROFILE", "STATE", "CREATED")]
    for job in jobs:
        state = job.status(scheduler=False)
        rows.append((job.id, job.record.profile, state, job.record.created_at))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        typer.echo("  ".join([*cells, row[3]]))


@jobs_app.command("status")
def status(job_id: JobIdArg) -> None:
    """Refresh and print a job's state (exit 1 when it failed or was cancelled)."""
    from nemotron.kit.run import get_job

    job = get_job(job_id)
    state = job.status()
    rec = job.record
    typer.echo(
        f"{rec.id}: {state}"
        + (f" (exit code {rec.exit_code})" if rec.exit_code is not None else "")
    )
    typer.echo(f"  profile {rec.profile} [{rec.executor}], command: {' '.join(rec.command)}")
    if rec.message:
        typer.echo(f"  {rec.message}")
    if state in ("FAILED", "CANCELLED"):
        raise typer.Exit(1)


@jobs_app.command("logs")
def logs(
    job_id: JobIdArg,
    follow: Annotated[
        bool, typer.Option("-f", "--follow", help="Stream until the job ends.")
    ] = False,
    tail: Annotated[int | None, typer.Option("-n", "--tail", help="Only the last N lines.")] = None,
) -> None:
    """Print a job's output (`-f` follows it until it ends)."""
    from nemotron.kit.run import get_job

    job = get_job(job_id)
    if follow:
        job.wait(on_output=typer.echo)
        return
    text = job.logs(tail=tail)
    if text:
        typer.echo(text)
    else:
        typer.echo(f"no output yet for {job_id}", err=True)


@jobs_app.command("cancel")
def cancel(job_id: JobIdArg) -> None:
    """Cancel a running job (scancel on Slurm, stop the process locally)."""
    from nemotron.kit.run import get_job

    job = get_job(job_id)
    before = job.status()
    if before in ("SUCCEEDED", "FAILED", "CANCELLED", "DRY_RUN"):
        typer.echo(f"{job_id}: already {before}")
    elif job.cancel():
        typer.echo(f"{job_id}: cancelled")
    else:
        typer.echo(f"{job_id}: past its publish point; left to finish its publish")
