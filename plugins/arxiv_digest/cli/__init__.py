"""The command line: update, backfill, summarize, status, export."""
