"""The shapes of the API's answers and requests, with Sentry's field names (camelCase, as in
Sentry's public API reference), and the functions that build them from models."""
