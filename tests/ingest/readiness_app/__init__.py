"""A tiny app that contributes readiness checks, as any installed app may (test_health.py)."""
