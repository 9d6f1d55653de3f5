"""The WSGI application Gunicorn serves (gunicorn_conf.py names it)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bugsink_site.settings")
application = get_wsgi_application()
