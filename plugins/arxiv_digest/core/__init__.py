"""What every phase shares: models, settings, the store and its lock, errors, the announcement
schedule, the interface language."""
