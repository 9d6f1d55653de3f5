"""The WSGI application Gunicorn serves (gunicorn_conf.py names it): the site, with SDK requests
taking ingest's fast path past the site's middleware (bugsink_ingest.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from bugsink_ingest.wsgi import with_ingest_fast_path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bugsink_site.settings")

application = with_ingest_fast_path(get_wsgi_application())
