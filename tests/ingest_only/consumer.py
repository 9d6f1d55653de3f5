"""The ingest-only site's consumer: keeps what it is handed, in memory."""

KEPT = []


def keep(events):
    KEPT.extend(events)
