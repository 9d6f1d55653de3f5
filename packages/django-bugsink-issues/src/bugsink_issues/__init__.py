"""django-bugsink-issues: grouping events into issues, their lifecycle, retention, alerts and the UI."""
