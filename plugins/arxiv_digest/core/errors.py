"""The one small exception hierarchy of arxiv_digest, with the CLI exit code of each kind."""

from __future__ import annotations


class DigestError(Exception):
    """Base of every error the plugin raises on purpose; its message is one line for the user."""

    exit_code = 1


class ConfigError(DigestError):
    """A setting or the YAML config file is wrong: names the file, the key and what was expected."""

    exit_code = 2


class FetchError(DigestError):
    """arXiv could not be fetched, or answered with something unusable (after retries)."""

    exit_code = 3


class NoAnnouncementError(DigestError):
    """The feed is stale or empty on a day arXiv should have announced: nothing is published."""

    exit_code = 4


class StoreError(DigestError):
    """A day file could not be read or written."""

    exit_code = 5


class BrokenDaysError(StoreError):
    """Stored day files are invalid: the site build stops rather than publish without them."""

    exitcode = StoreError.exit_code  # what `pelican` exits with (it reads `exitcode`)


class BusyError(DigestError):
    """Another run holds a day's lock for longer than the wait allowed: nothing was written."""

    exit_code = 7


class SummaryError(DigestError):
    """A summary could not be produced or failed validation (recorded per paper, never fatal)."""

    exit_code = 6
