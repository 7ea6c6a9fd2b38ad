"""`zoo-bench history`: every finished run of a store as trends, with the steps in them."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import UsageError


@click.command()
@click.option("--output", "-o", type=click.Path(path_type=Path), default=Path("zoo-bench-results"),
              show_default=True, help="Results store directory.")
@click.option("--label", help="Only runs whose label matches (a glob: 'nightly-*').")
@click.option("--model", "-m", "models", multiple=True, help="Only these models (globs, comma lists).")
@click.option("--target", "-t", "targets", multiple=True, help="Only these targets (globs, comma lists).")
@click.option("--metric", "metrics", multiple=True,
              help="Only these metrics (globs, comma lists); default: every figure except the tails and mean "
                   "of a sampled latency, which follow its median.")
@click.option("--since", help="Only runs started at or after this date (2026-12-01, ISO date-time, 7d, 12h).")
@click.option("--html", "html_path", type=click.Path(path_type=Path),
              help="Write the self-contained HTML page (one chart per series) to this file.")
@click.option("--json", "as_json", is_flag=True, help="Print every series with its points and steps as JSON.")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print the steps and series as markdown (CI summary).")
@click.option("--latency-threshold", default=5.0, show_default=True, type=float,
              help="Percent change of a latency or throughput that can be a step.")
@click.option("--memory-threshold", default=1.0, show_default=True, type=float,
              help="Percent change of a memory figure (*_kib) that can be a step.")
@click.option("--accuracy-threshold", default=0.5, show_default=True, type=float,
              help="Points of accuracy that can be a step.")
@click.option("--threshold", "other_threshold", default=5.0, show_default=True, type=float,
              help="Percent change of any other figure that can be a step.")
def history(output, label, models, targets, metrics, since, html_path, as_json, as_markdown, latency_threshold,
            memory_threshold, accuracy_threshold, other_threshold) -> None:
    """Trends of every figure over the finished runs of a store, and the steps in them.

    \b
    A step is a change beyond the metric's threshold and, for measured latencies, beyond
    the noise of the raw samples (95 % bootstrap interval of the median ratio), that holds
    in the next run; it is attributed to the first run that shows it, with what changed
    since the run before (versions, model file, commit, options). A shift in the newest run
    is "pending" until the next run confirms it.
    \b
    Examples:
      zoo-bench history -o zoo-bench-results --html history.html
      zoo-bench history --label 'nightly-*' --since 30d --markdown
      zoo-bench history -m mobilenet_v2_0.35_128 -t cpu --metric latency_p50_ms --json
    Exit code 0 (a report, not a verdict: `zoo-bench compare` judges), 2 for bad input.
    """
    from ..plan import split_patterns
    from ..reports.compare import Thresholds
    from ..reports.history import build_history, parse_since
    from ..reports.history_page import format_markdown, format_terminal, render_history
    from ..store import ResultsStore

    if as_json and as_markdown:
        raise UsageError("choose one of --json and --markdown")
    thresholds = Thresholds(latency_threshold, memory_threshold, accuracy_threshold, other_threshold)
    found = build_history(ResultsStore(output), label=label, since=parse_since(since) if since else None,
                          models=split_patterns(models), targets=split_patterns(targets),
                          metrics=split_patterns(metrics), thresholds=thresholds)
    if html_path is not None:
        try:
            html_path.write_text(render_history(found))
        except OSError as exc:
            raise UsageError(f"cannot write {html_path} (--html): {exc.strerror or exc}") from None
        if not (as_json or as_markdown):
            click.echo(str(html_path))
    if as_json:
        click.echo(found.to_json())
    elif as_markdown:
        click.echo(format_markdown(found))
    elif html_path is None:
        click.echo(format_terminal(found))
