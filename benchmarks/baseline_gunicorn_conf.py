"""The deployment's own Gunicorn settings (example_project/gunicorn_conf.py) for the baseline app,
less its server hooks: those set up Django, which the trivial baseline app does not use."""

import runpy
from pathlib import Path

_deployment = runpy.run_path(
    str(Path(__file__).resolve().parents[1] / "example_project" / "gunicorn_conf.py")
)
globals().update(
    {k: v for k, v in _deployment.items() if not k.startswith("_") and not callable(v)}
)
wsgi_app = "benchmarks.baseline_app:app"
