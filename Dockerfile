# The reference deployment in a container: the same `manage.py serve` as on a laptop, state in /data.
# Not built in this project's CI (no Docker on its machines): kept small enough to check by reading.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BUGSINK_DATA_DIR=/data

WORKDIR /app
COPY packages/ packages/
COPY example_project/ example_project/
RUN pip install --no-cache-dir -r example_project/requirements.txt

RUN useradd --system --uid 10001 --home-dir /data bugsink \
    && mkdir -p /data && chown bugsink /data
USER bugsink
VOLUME ["/data"]
EXPOSE 8000

# serve forwards SIGTERM to Gunicorn and the foreman and waits for both (allow it ~60 s).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4)"]
CMD ["python", "example_project/manage.py", "serve", "--bind", "0.0.0.0:8000"]
