"""`kb reindex`, `stats`, `serve`, `worker` and `settings`: looking after a store."""

from __future__ import annotations

import signal
import threading
from dataclasses import asdict

import click
from rich.markup import escape

from api.cli.base import Context, cli, json_option, pass_context
from api.cli.terminal import err, out, print_json, progress, settings_table
from api.schemas.core import StatsPublic
from ingest.jobs import Worker
from kb.jobs import Job
from kb.metadata.schema import load_schema
from kb.settings import Settings
from kb.users import ADMIN_KEY_FILE, bootstrap_admin


@cli.command()
@json_option
@pass_context
def reindex(ctx: Context, as_json: bool) -> None:
    """Rebuild the FAISS index from the stored vectors and the keyword index from the stored
    text; re-embed every passage first if the model setting (KB_MODEL) differs from the model
    the store was built with."""
    every = ctx.settings.progress_seconds
    with ctx.open(allow_model_change=True) as kb:
        # Steps are passages re-embedded after a model change; the indexes are rebuilt after.
        with progress(None, every=every, doing="reindexing", unit="passages embedded") as advance:
            stats = kb.reindex(advance)
    if as_json:
        print_json(StatsPublic.model_validate(stats).model_dump())
    else:
        err.print(
            f"indexes rebuilt: FAISS of {stats.index_vectors} vectors (model {stats.model}) "
            "and the keyword index"
        )


@cli.command()
@json_option
@click.option(
    "--recall",
    "recall_queries",
    type=click.IntRange(1, 10_000),
    default=None,
    help="Also measure recall@10 of the vector index against exact search, with this many "
    "stored passages as queries.",
)
@pass_context
def stats(ctx: Context, as_json: bool, recall_queries: int | None) -> None:
    """Counts of current documents and passages, the model and the index (its kind: exact or
    hnsw)."""
    with ctx.open() as kb:
        result = StatsPublic.model_validate(kb.stats()).model_dump()
        if recall_queries is not None:
            measured = kb.index_recall(recall_queries, k=10)
            result["recall_at_10"] = round(measured.recall, 4)
            result["recall_queries"] = measured.queries
    if as_json:
        print_json(result)
        return
    for key, value in result.items():
        out.print(f"{key}: {value}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@pass_context
def serve(ctx: Context, host: str, port: int) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from api.app import UVICORN_OPTIONS, create_app

    sign_in(ctx)
    err.print(
        f"Precedent on http://{host}:{port}/  (sign in with an API key; "
        f"API docs: http://{host}:{port}/docs)"
    )
    app = create_app(ctx.settings)
    uvicorn.run(app, host=host, port=port, log_level="info", **UVICORN_OPTIONS)


def sign_in(ctx: Context) -> None:
    """On a store without users, make the first admin and print its key once; later, say
    where that key was written."""
    key_file = ctx.settings.store / ADMIN_KEY_FILE
    shown = escape(str(key_file))
    with ctx.users() as users:
        key = bootstrap_admin(users, ctx.settings.store)
    if key is not None:
        err.print(
            "[bold]First start: created the user `admin` (role admin, cleared for everything).[/]"
        )
        err.print(f"Its API key, shown only this once (also written to {shown}, mode 0600):")
        click.echo(key)
        err.print("Sign in to the web UI with it, or use it as a bearer token:")
        err.print(f'curl -H "Authorization: Bearer $(cat {shown})" ...')
    elif key_file.is_file():
        err.print(f"The first admin's API key is in {shown} (`kb users` manages the others).")
    else:
        err.print("Sign in with an API key: `kb users add NAME --role ROLE` makes one.")


@cli.command(name="settings")
@json_option
@pass_context
def settings_(ctx: Context, as_json: bool) -> None:
    """Every setting (environment variable KB_NAME), its value here and what it does."""
    rows = [
        (f"KB_{name.upper()}", str(getattr(ctx.settings, name)), field.description or "")
        for name, field in Settings.model_fields.items()
    ]
    if as_json:
        print_json([{"env": env, "value": value, "help": help_} for env, value, help_ in rows])
        return
    click.echo(settings_table())


@cli.command()
@click.option("--once", is_flag=True, help="Ingest the jobs waiting now, then stop.")
@json_option
@pass_context
def worker(ctx: Context, once: bool, as_json: bool) -> None:
    """Ingest queued uploads (POST /documents with background=true) until stopped (Ctrl-C or
    SIGTERM finish the file in hand first). Run any number, on any machines sharing the
    store's database (KB_DATABASE_URL): each job goes to one worker, and a job whose worker
    dies is taken up by another after KB_JOB_LEASE_SECONDS."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with ctx.open() as kb:
        runner = Worker(kb, load_schema(ctx.settings.metadata_schema))
        err.print(f"worker {escape(runner.name)} waiting for jobs")
        try:
            runner.run(stop, lambda job: report(job, as_json), once)
        except KeyboardInterrupt:
            pass


def report(job: Job, as_json: bool) -> None:
    if as_json:
        print_json(asdict(job))
    else:
        err.print(f"job {job.job_id}: {job.state}, {job.done} of {job.files} files")
