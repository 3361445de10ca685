"""Command line: `python -m arxiv_digest update|backfill|summarize|restamp|status|export-md`.

Exit codes: 0 done (a day stored, or no announcement today: nothing to publish); 2 configuration
or usage error; 3 fetch failed (network, HTTP, malformed data, after retries); 4 no announcement
published although one was expected (stale or empty feed; try again later), or a backfill day the
API had no papers for; 5 a day file could not be read or written (it names the file and what is
wrong); 6 `summarize` stored its days but summaries failed (failed or backing off: see `status`);
7 another run kept updating the same day longer than ARXIV_DIGEST_LOCK_TIMEOUT (nothing written;
run again); 1 anything else; 130 interrupted (stored days are kept).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError, DigestError, StoreError, SummaryError
from ..core.settings import DigestSettings, load_settings

logger = logging.getLogger("arxiv_digest")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def _now(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO date-time, got {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def read_digest_settings(path: str) -> DigestSettings:
    """Load pelicanconf.py (or another settings file) and validate the plugin's settings."""
    if not Path(path).is_file():
        raise ConfigError(f"{path}: settings file not found (pass --settings)")
    from pelican.settings import read_settings

    # Pelican's own warnings about the site (feeds without SITEURL, ...) are not the CLI's business
    pelican_log = logging.getLogger("pelican.settings")
    level = pelican_log.level
    pelican_log.setLevel(logging.ERROR)
    try:
        pelican_settings = read_settings(path)
    except Exception as e:  # the settings file is Python run by Pelican: any error is the user's
        raise ConfigError(f"{path}: not usable as Pelican settings: {e}") from e
    finally:
        pelican_log.setLevel(level)
    return load_settings(pelican_settings)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per task."""
    parser = argparse.ArgumentParser(
        prog="python -m arxiv_digest",
        description="Fetch, tag, summarize and store arXiv announcement days for the site.",
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-s", "--settings", default=os.environ.get(
        "ARXIV_DIGEST_SETTINGS", "pelicanconf.py"), help="Pelican settings file (default: %(default)s)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("update", help="fetch the latest announcement (or --date) and store it")
    up.add_argument("--date", type=_date, help="backfill this announcement day through the API")
    up.add_argument("--source", choices=("arxiv", "biorxiv", "medrxiv"), default="arxiv",
                    help="the source to fetch (bioRxiv/medRxiv: --date is the posting day, "
                    "default yesterday; listed under `sources:` in digest.yaml)")
    up.add_argument("--now", type=_now, help=argparse.SUPPRESS)  # tests: pretend the clock says this
    up.add_argument("--resummarize", action="store_true",
                    help="summarize again papers whose prompt or model changed")
    up.set_defaults(func=cmd_update)

    bf = sub.add_parser(
        "backfill", help="fetch a range of announcement days through the API (resumable)",
        description="Fetch every announcement day from --from to --to through the arXiv API, "
        "one stored file per day. Days already stored are skipped unless --force, so an "
        "interrupted backfill resumes where it stopped. With --source biorxiv or medrxiv, every "
        "posting day (weekends included) through the server's interval API; a day counts as "
        "stored when its file holds that server's papers.",
    )
    bf.add_argument("--source", choices=("arxiv", "biorxiv", "medrxiv"), default="arxiv",
                    help="the source to fetch (bioRxiv/medRxiv: listed under `sources:` in "
                    "digest.yaml; --to defaults to yesterday)")
    bf.add_argument("--from", dest="start", type=_date, required=True, metavar="YYYY-MM-DD",
                    help="first day")
    bf.add_argument("--to", dest="end", type=_date, metavar="YYYY-MM-DD",
                    help="last day (default: the latest announcement)")
    bf.add_argument("--force", action="store_true", help="fetch days that are already stored")
    bf.add_argument("--now", type=_now, help=argparse.SUPPRESS)
    bf.set_defaults(func=cmd_backfill)

    sm = sub.add_parser(
        "summarize", help="summarize stored days again: retry pending or failed summaries",
        description="Run the summarize stage on stored days, without any request to arXiv. "
        "With --date, that day; otherwise every stored day of the last --days days that has "
        "pending or failed summaries. Summaries already made are kept (the cache), unless "
        "--resummarize and their prompt or model changed.",
    )
    sm.add_argument("--date", type=_date, help="the stored day to summarize")
    sm.add_argument("--days", type=int, default=7, metavar="N",
                    help="with no --date: look at the stored days of the last N days (default 7)")
    sm.add_argument("--resummarize", action="store_true",
                    help="summarize again papers whose prompt or model changed")
    sm.add_argument("--now", type=_now, help=argparse.SUPPRESS)
    sm.set_defaults(func=cmd_summarize)

    rs = sub.add_parser(
        "restamp", help="store again the topic decisions and radar rankings that no longer hold",
        description="For stored days (every day, or --date), decide the topics again where the "
        "stored decisions no longer hold (digest.yaml's topics or the deciding code changed) and "
        "store the radar's ranking where it is missing or stale (days stored before it, or "
        "another ranking code), so that a cold build reads them as stored instead of deciding "
        "and ranking every day. No request to arXiv or a model; a day is written only when "
        "something changed, under its lock.",
    )
    rs.add_argument("--date", type=_date, action="append", metavar="YYYY-MM-DD",
                    help="this stored day (repeatable; default: every stored day)")
    rs.set_defaults(func=cmd_restamp)

    st = sub.add_parser("status", help="stored days, gaps, pending summaries, spend per month")
    st.add_argument("--now", type=_now, help=argparse.SUPPRESS)
    st.set_defaults(func=cmd_status)

    md = sub.add_parser("export-md", help="write a stored day as Markdown (for GitHub mirrors)")
    md.add_argument("--date", type=_date, required=True, help="the stored day to export")
    md.add_argument("-o", "--output", default="-",
                    help="file to write (default: standard output)")
    md.add_argument("--all", dest="include_all", action="store_true",
                    help="every paper of the day, not only those on the topics")
    md.set_defaults(func=cmd_export_md)
    return parser


def cmd_update(args: argparse.Namespace, settings: DigestSettings) -> int:
    """`update`: one day, from the feed or the API."""
    from ..update.pipeline import update_day

    if args.source != "arxiv":
        from ..update.pipeline import update_preprints

        result = update_preprints(settings, args.source, day=args.date, now=args.now,
                                  resummarize=args.resummarize)
    else:
        result = update_day(settings, day=args.date, now=args.now, resummarize=args.resummarize)
    if result.reason:
        print(f"no announcement: {result.reason}; nothing to publish")
        return EXIT_OK
    assert result.digest is not None
    print(
        f"{result.day}: {len(result.digest.papers)} papers stored in {result.path} "
        f"({result.added:+d} new)"
    )
    return EXIT_OK


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def cmd_backfill(args: argparse.Namespace, settings: DigestSettings) -> int:
    """`backfill`: each announcement day of a range through the API, with a progress bar."""
    from ..update.backfill import RichListener, backfill, backfill_preprints, plan, plan_posting_days

    now = args.now or dt.datetime.now(dt.UTC)
    preprints = args.source != "arxiv"
    try:
        if preprints:
            days, note = plan_posting_days(args.start, args.end, now)
        else:
            days, note = plan(settings, args.start, args.end, now)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if note:
        print(f"note: {note}", file=sys.stderr)
    if not days:
        print("no announcement days in that range; nothing to do")
        return EXIT_OK
    console = _console(stderr=True)
    root = logging.getLogger()
    handlers = root.handlers[:]
    with RichListener(console, len(days)) as listener:
        if console.is_terminal and not args.verbose:
            # stage logs would tear the live bar; the per-day lines say the same in short
            from rich.logging import RichHandler

            root.handlers = [RichHandler(console=console, level=logging.WARNING,
                                         show_time=False, show_path=False)]
        try:
            if preprints:
                report = backfill_preprints(settings, args.source, days, force=args.force,
                                            now=args.now, listener=listener)
            else:
                report = backfill(settings, days, force=args.force, now=args.now, listener=listener)
        finally:
            root.handlers = handlers
    stored, skipped = report.count("stored"), report.count("skipped")
    kind = f"{args.source} posting days" if preprints else "announcement days"
    none = f", {report.count('no posts')} with no posts" if preprints else ""
    print(
        f"backfill {days[0]}..{days[-1]}: {len(days)} {kind}; {stored} stored, "
        f"{skipped} skipped (already stored){none}, {report.papers:,} papers fetched, "
        f"{report.summaries:,} summaries, ${report.cost:.4f}"
    )
    left = report.remaining
    option = f" --source {args.source}" if preprints else ""
    resume = f"python -m arxiv_digest backfill{option} --from {left[0]} --to {days[-1]}" if left else ""
    if report.interrupted:
        print(f"interrupted: {len(left)} day(s) not done; every stored day is kept. "
              f"Resume with: {resume}", file=sys.stderr)
    elif report.error is not None:
        failed = next(r.day for r in report.results if r.status == "failed")
        print(f"error: backfill stopped at {failed}: {report.error}", file=sys.stderr)
        print(f"{len(left)} day(s) not done; days stored so far are kept. Run the same command "
              f"again to resume (stored days are skipped): {resume}", file=sys.stderr)
    elif report.count("empty"):
        empty = [r.day.isoformat() for r in report.results if r.status == "empty"]
        print(f"warning: the API had no papers for {', '.join(empty)}; nothing stored for "
              "them. Run the same command again later to retry them.", file=sys.stderr)
    return report.exit_code


def cmd_summarize(args: argparse.Namespace, settings: DigestSettings) -> int:
    """`summarize`: retry pending or failed summaries of stored days (no arXiv request)."""
    from ..core import schedule, store
    from ..update.pipeline import summarize_stored
    from .status import summary_counts

    if args.date is not None:
        days = [args.date]
    else:
        if args.days < 0:
            raise ConfigError(f"--days: expected a number of days >= 0, got {args.days}")
        today = schedule.expected_day(args.now or dt.datetime.now(dt.UTC))
        first = (today - dt.timedelta(days=args.days)).isoformat()
        days = []
        for path in store.iter_days(settings.data_dir):
            if path.stem >= first and summary_counts(store.load(path), settings).todo:
                days.append(dt.date.fromisoformat(path.stem))
        if not days:
            print(f"no stored day since {first} has pending or failed summaries; nothing to do")
            return EXIT_OK
    failed = 0
    for day, digest, _path in summarize_stored(settings, days, resummarize=args.resummarize,
                                               now=args.now):
        s = summary_counts(digest, settings)
        failed += s.failed
        print(f"{day}: summaries {s.done} done, {s.pending} pending, {s.failed} failed")
    if failed:  # stored and published with the fallbacks, but a script should know
        print(f"{failed} summaries failed (kept as failed, asked again after llm.failed_retry_hours;"
              " see `status`)", file=sys.stderr)
        return SummaryError.exit_code
    return EXIT_OK


def cmd_restamp(args: argparse.Namespace, settings: DigestSettings) -> int:
    """`restamp`: store again the decisions and radar rankings of stored days that no longer hold."""
    from ..update.pipeline import restamp_stored

    changed = restamp_stored(settings, args.date)
    for r in changed:
        what = " and ".join(w for w, done in (("topics decided again", r.decided),
                                              ("radar ranking stored", r.ranked)) if done)
        print(f"{r.day}: {what}")
    print(f"{len(changed)} stored day(s) written again" if changed
          else "every stored day's decisions and radar ranking hold; nothing written")
    return EXIT_OK


def cmd_status(args: argparse.Namespace, settings: DigestSettings) -> int:
    """`status`: what is stored, what is missing, what is pending, what it cost."""
    from .status import collect, report

    status = collect(settings, now=args.now)
    report(status, settings, _console())
    return StoreError.exit_code if status.broken else EXIT_OK


def cmd_export_md(args: argparse.Namespace, settings: DigestSettings) -> int:
    """`export-md`: one stored day as Markdown, to a file or standard output."""
    from ..core.store import day_path, load_day, write_atomic
    from .export_md import export_day

    digest = load_day(settings.data_dir, args.date)
    if digest is None:  # a day file that is not there: exit 5, as for one that cannot be read
        raise StoreError(
            f"{day_path(settings.data_dir, args.date)}: {args.date} is not stored "
            f"(fetch it with: python -m arxiv_digest update --date {args.date})"
        )
    text = export_day(digest, settings, include_all=args.include_all)
    if args.output == "-":
        sys.stdout.write(text)
        return EXIT_OK
    path = Path(args.output)
    write_atomic(path, text)
    print(f"{args.date}: wrote {path}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = read_digest_settings(args.settings)
        return int(args.func(args, settings))
    except DigestError as e:
        logger.debug("traceback", exc_info=True)
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted: nothing more was written", file=sys.stderr)
        return 130
