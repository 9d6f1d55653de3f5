"""The WSGI application Gunicorn serves (gunicorn_conf.py names it): the site, with SDK requests
taking ingest's fast path past the site's middleware (bugsink_ingest.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from bugsink_ingest.wsgi import with_ingest_fast_path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bugsink_site.settings")

application = with_ingest_fast_path(get_wsgi_application())

# Gunicorn loads this module once in its master (preload_app) and forks the workers from it: the
# URLconf, and with it every view module, imported here is memory the workers share, not a copy
# each worker makes at its first request.
_url_patterns = get_resolver().url_patterns  # imports the URLconf, and so every view module
