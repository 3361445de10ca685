"""arxiv_digest: a Pelican plugin that turns arXiv announcement days into dated digest pages."""

from .site.plugin import register

__all__ = ["register"]
