"""A small shared zstd dictionary (raw content) of what SDK events have in common.

Small events compress poorly on their own: the keys and boilerplate dominate. Priming zstd with
typical event text roughly halves the stored size. The content is fixed per DICT_ID: change it only
together with a new id (rows keep the id they were written with).
"""

import json

DICT_ID = 1

_PYTHON_EVENT = {
    "level": "error",
    "exception": {
        "values": [
            {
                "mechanism": {"type": "django", "handled": False},
                "module": None,
                "type": "ValueError",
                "value": "invalid literal for int() with base 10: 'abc'",
                "stacktrace": {
                    "frames": [
                        {
                            "filename": "django/core/handlers/exception.py",
                            "abs_path": "/usr/local/lib/python3.11/site-packages/django/core/handlers/exception.py",
                            "function": "inner",
                            "module": "django.core.handlers.exception",
                            "lineno": 55,
                            "pre_context": [
                                "",
                                "        @wraps(get_response)",
                                "        def inner(request):",
                                "            try:",
                            ],
                            "context_line": "                response = get_response(request)",
                            "post_context": [
                                "            except Exception as exc:",
                                "                response = response_for_exception(request, exc)",
                                "            return response",
                            ],
                            "vars": {
                                "request": "<WSGIRequest: GET '/'>",
                                "exc": "ValueError(\"invalid literal for int() with base 10: 'abc'\")",
                                "get_response": "<bound method BaseHandler._get_response of <django.core.handlers.wsgi.WSGIHandler object at 0x7f0000000000>>",
                            },
                            "in_app": False,
                        },
                        {
                            "filename": "app/views.py",
                            "abs_path": "/srv/app/app/views.py",
                            "function": "index",
                            "module": "app.views",
                            "lineno": 12,
                            "pre_context": ["def index(request):", "    try:"],
                            "context_line": "        value = int(request.GET['id'])",
                            "post_context": [
                                "    except KeyError:",
                                "        return HttpResponse('missing')",
                            ],
                            "vars": {
                                "request": "<WSGIRequest: GET '/?id=abc'>",
                                "__name__": "'__main__'",
                                "__doc__": "None",
                                "__package__": "None",
                                "__loader__": "<_frozen_importlib_external.SourceFileLoader object at 0x7f0000000000>",
                                "__spec__": "None",
                                "__annotations__": {},
                                "__builtins__": "<module 'builtins' (built-in)>",
                                "__file__": "'/srv/app/app/views.py'",
                                "__cached__": "None",
                            },
                            "in_app": True,
                        },
                    ]
                },
            }
        ]
    },
    "logger": "django.request",
    "logentry": {
        "message": "Internal Server Error: %s",
        "formatted": "Internal Server Error: /",
        "params": ["/"],
    },
    "transaction": "/",
    "transaction_info": {"source": "route"},
    "request": {
        "url": "http://localhost:8000/",
        "query_string": "id=abc",
        "method": "GET",
        "env": {"SERVER_NAME": "localhost", "SERVER_PORT": "8000"},
        "headers": {
            "Host": "localhost:8000",
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Encoding": "gzip, deflate, br",
            "Accept-Language": "en-US,en;q=0.9",
            "Connection": "keep-alive",
            "Content-Type": "application/json",
            "Content-Length": "0",
            "Cookie": "",
        },
        "data": {},
    },
    "extra": {"sys.argv": ["manage.py", "runserver"]},
    "event_id": "00000000000000000000000000000000",
    "timestamp": "2026-01-01T00:00:00.000000Z",
    "contexts": {
        "trace": {
            "trace_id": "00000000000000000000000000000000",
            "span_id": "0000000000000000",
            "parent_span_id": None,
            "op": "http.server",
            "status": "internal_error",
        },
        "runtime": {
            "name": "CPython",
            "version": "3.11.7",
            "build": "3.11.7 (main, Jan  1 2026, 00:00:00) [GCC 12.2.0]",
        },
    },
    "breadcrumbs": {
        "values": [
            {
                "type": "log",
                "level": "info",
                "category": "django.db.backends",
                "message": "SELECT",
                "timestamp": "2026-01-01T00:00:00.000000Z",
                "data": {},
            },
            {
                "type": "http",
                "category": "httplib",
                "data": {"method": "GET", "url": "https://", "status_code": 200, "reason": "OK"},
            },
        ]
    },
    "modules": {
        "django": "5.2",
        "asgiref": "3.8.1",
        "sqlparse": "0.5.0",
        "urllib3": "2.2.1",
        "pip": "24.0",
        "certifi": "2024.2.2",
        "setuptools": "65.5.0",
        "sentry-sdk": "2.75.0",
        "brotli": "1.1.0",
        "gunicorn": "23.0.0",
        "psycopg": "3.2.1",
        "django-appconf": "1.0.6",
    },
    "release": "myapp@1.0.0",
    "environment": "production",
    "server_name": "app-host",
    "user": {"id": "1", "email": "user@example.com", "ip_address": "127.0.0.1", "username": "user"},
    "sdk": {
        "name": "sentry.python.django",
        "version": "2.75.0",
        "packages": [{"name": "pypi:sentry-sdk", "version": "2.75.0"}],
        "integrations": [
            "argv",
            "atexit",
            "dedupe",
            "django",
            "excepthook",
            "logging",
            "modules",
            "stdlib",
            "threading",
        ],
    },
    "platform": "python",
}

_JS_EVENT = {
    "exception": {
        "values": [
            {
                "type": "TypeError",
                "value": "Cannot read properties of undefined (reading 'x')",
                "stacktrace": {
                    "frames": [
                        {
                            "filename": "node:internal/process/task_queues",
                            "module": "task_queues",
                            "function": "process.processTicksAndRejections",
                            "lineno": 95,
                            "colno": 5,
                            "in_app": False,
                        },
                        {
                            "filename": "/srv/app/index.js",
                            "module": "index",
                            "function": "Object.<anonymous>",
                            "lineno": 10,
                            "colno": 3,
                            "in_app": True,
                            "pre_context": ["const Sentry = require('@sentry/node');"],
                            "context_line": "  foo.bar();",
                            "post_context": ["});"],
                        },
                    ]
                },
                "mechanism": {"type": "auto.node.onuncaughtexception", "handled": False},
            }
        ]
    },
    "level": "error",
    "platform": "node",
    "contexts": {
        "trace": {"trace_id": "", "span_id": ""},
        "runtime": {"name": "node", "version": "v20.11.0"},
        "app": {"app_start_time": "", "app_memory": 0, "free_memory": 0},
        "os": {"kernel_version": "", "name": "Linux", "version": ""},
        "device": {
            "boot_time": "",
            "arch": "x64",
            "memory_size": 0,
            "free_memory": 0,
            "processor_count": 2,
            "cpu_description": "",
            "processor_frequency": 0,
        },
        "culture": {"locale": "en-US", "timezone": "UTC"},
        "cloud_resource": {},
        "browser": {"name": "Chrome", "version": "120.0.0"},
    },
    "request": {
        "url": "https://example.com/",
        "headers": {
            "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Referer": "https://example.com/",
        },
    },
    "sdk": {
        "integrations": [
            "InboundFilters",
            "FunctionToString",
            "LinkedErrors",
            "Dedupe",
            "RequestData",
            "Console",
            "Http",
            "NodeFetch",
            "OnUncaughtException",
            "OnUnhandledRejection",
            "ContextLines",
            "LocalVariables",
            "Context",
            "Modules",
            "BrowserApiErrors",
            "Breadcrumbs",
            "GlobalHandlers",
            "HttpContext",
            "BrowserSession",
        ],
        "name": "sentry.javascript.browser",
        "version": "11.12.0",
        "packages": [
            {"name": "npm:@sentry/browser", "version": "11.12.0"},
            {"name": "npm:@sentry/node", "version": "11.12.0"},
        ],
    },
    "breadcrumbs": [
        {"timestamp": 0, "category": "console", "level": "log", "message": ""},
        {"timestamp": 0, "category": "ui.click", "message": "body > div"},
        {
            "timestamp": 0,
            "category": "fetch",
            "type": "http",
            "data": {"method": "GET", "url": "", "status_code": 200},
        },
    ],
}


def dictionary_bytes() -> bytes:
    # Compact JSON in the same form the digest stores, most common content last (cheaper offsets).
    return b"".join(
        json.dumps(event, separators=(",", ":")).encode() for event in (_JS_EVENT, _PYTHON_EVENT)
    )
