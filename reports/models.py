"""Roll-ups, dashboard snapshots and milestone reports (built in later issues)."""
