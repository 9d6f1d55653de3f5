"""Cron monitors: check-ins (the SDKs' `check_in` items) create and update a project's monitors by
slug (checkins.py); the schedule says when the next one is due (schedule.py); a periodic task finds
the misses and timeouts (detection.py, tasks.py); failures, misses and timeouts alert once per
transition through the project's channels (alerts/monitors.py)."""
