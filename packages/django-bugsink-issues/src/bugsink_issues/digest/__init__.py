"""The digest: the consumer of bugsink_ingest's spool, `digest_batch(events)`."""

from bugsink_issues.digest.consumer import digest_batch

__all__ = ["digest_batch"]
