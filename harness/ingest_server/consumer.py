"""The ingest server's default consumer."""


def discard(events) -> None:
    """The events leave the spool and nothing else happens (what the ingest benchmark measures)."""
