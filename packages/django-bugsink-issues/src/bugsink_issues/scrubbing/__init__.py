"""Server-side data scrubbing: secrets are replaced by "[Filtered]" before an event is stored.

On by default per project (ProjectSettings: scrub_data, scrub_ip_addresses, scrub_extra_fields,
scrub_safe_fields), as Sentry's server-side data scrubber is. The digest runs `scrub_event` on each
normalised event before grouping, tags and compression, so no stored or derived copy keeps what it
replaced. rules.py says what is sensitive, event.py where in an event it is looked for.
"""

from bugsink_issues.scrubbing.event import scrub_event
from bugsink_issues.scrubbing.rules import DEFAULT_CONFIG, FILTERED, ScrubbingConfig

__all__ = ["DEFAULT_CONFIG", "FILTERED", "ScrubbingConfig", "scrub_event"]
