"""Assertions over a chaos run's books, with messages that say what went wrong."""


def _log_excerpt(run, limit=4000):
    """The log's errors with the lines after them if there are any (the tail is task chatter)."""
    lines = run.deployment.log().splitlines()
    wanted = set()
    for i, line in enumerate(lines):
        if "ERROR" in line or "Traceback" in line:
            wanted.update(range(i, min(i + 40, len(lines))))
    picked = [lines[i] for i in sorted(wanted)] or lines
    return "\n".join(picked)[-limit:]


def assert_books_balance(run, ledger, min_acknowledged=50):
    log_tail = _log_excerpt(run)
    assert ledger.acknowledged >= min_acknowledged, (
        f"the load hardly got through: {dict(ledger.answers)}\n{log_tail}"
    )
    assert not ledger.lost, (
        f"{len(ledger.lost)} acknowledged events never stored, e.g. {ledger.lost[:5]}\n{log_tail}"
    )
    assert not ledger.violations, (
        f"{len(ledger.violations)} 5xx/unanswered requests while no web process was down: "
        + ", ".join(f"{o.status or o.error}" for o in ledger.violations[:10])
        + f"\n{log_tail}"
    )


def assert_recovered(fault, *keys):
    for key in keys:
        assert fault.details.get(key) is not None, (
            f"{fault.name}: no recovery ({key}) within the timeout; details {fault.details}"
        )
