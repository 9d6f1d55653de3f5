"""The baseline for the load benchmark: a WSGI app that reads the body and answers as ingest does.

Served by the same Gunicorn settings as the deployment, it shows what HTTP alone costs on this
machine in the same run (the ceiling the real ingest path is compared against).
"""

import json


def app(environ, start_response):
    stream = environ["wsgi.input"]
    while stream.read(65536):
        pass
    body = json.dumps({"id": "0" * 32}).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
