"""`python -m benchmarks NAME [NAME...]` (or `nox -s bench -- NAME`): runs the named benchmarks.

Each benchmark is a module here with a `main(argv)` function that prints its figures side by side
with the baseline it is compared against, in the same run.
"""

import importlib
import sys

BENCHMARKS = ["snappea", "ingest", "spool", "digest", "ui", "e2e", "memory", "scaleout"]
# Run only when named: `seed` builds a large installation, `large` takes tens of minutes at 5M.
ON_REQUEST = ["seed", "large"]


def main(argv):
    # Leading words name the benchmarks; everything from the first option on is passed through,
    # so options may take separate values (`--soak 600`).
    first_option = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    names, extra = argv[:first_option] or BENCHMARKS, argv[first_option:]
    known = BENCHMARKS + ON_REQUEST
    unknown = sorted(set(names) - set(known))
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(known)}")
    for name in names:
        print(f"\n=== benchmark: {name} ===", flush=True)
        importlib.import_module(f"benchmarks.{name}").main(extra)


if __name__ == "__main__":
    main(sys.argv[1:])
