"""Command line: `python -m arxiv_digest update [--date YYYY-MM-DD]` and friends.

Exit codes: 0 done (a day stored, or no announcement today); 2 configuration or usage error;
3 fetch failed (network, HTTP, malformed data, after retries); 4 no announcement published
although one was expected (stale or empty feed; try again later); 5 storage error; 1 anything else.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import ConfigError, DigestError
from .settings import DigestSettings, load_settings

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

    return load_settings(read_settings(path))


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
    up.add_argument("--now", type=_now, help=argparse.SUPPRESS)  # tests: pretend the clock says this
    up.add_argument("--resummarize", action="store_true",
                    help="summarize again papers whose prompt or model changed")
    up.set_defaults(func=cmd_update)
    return parser


def cmd_update(args: argparse.Namespace, settings: DigestSettings) -> int:
    """`update`: one day, from the feed or the API."""
    from .pipeline import update_day

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
