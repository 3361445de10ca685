"""The update phase's network path: fetching arXiv and the preprint servers, normalizing, the
pipeline that stores a day, and backfills."""
