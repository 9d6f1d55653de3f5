"""What the test suite and the benchmarks share to run real processes; not shipped, imported from
the repository root.

- `processes`: free ports, process groups started and stopped, waiting for a port or a condition.
- `settings`: the settings every Django process of the suite and the benchmarks derives from.
- `deployment`: the reference deployment (`manage.py serve`) started, stopped and read.
- `ingest_server`: a Gunicorn serving the ingest app alone, with a migrated database and keys.
- `loadgen`, `payloads`, `procstats`: load made of real SDK envelopes, and the process tree measured.
- `faults`, `chaos`: faults injected into a running deployment, and the books kept while they are.

The tests import `harness`, the benchmarks import `harness`; neither imports the other, and
`harness` imports neither (tests/test_import_rules.py).
"""
