"""Decisions made at update from a paper's text: topics (about / mentions)."""
