"""Which exception of a payload names the issue: chains, exception groups and synthetic ones; and
its crashing frame."""

from bugsink_issues.digest.frames import frames_of, grouping_frames


def exception_values(data):
    return (data.get("exception") or {}).get("values") or []


def mechanism(value):
    mech = value.get("mechanism")
    return mech if isinstance(mech, dict) else {}


def is_synthetic(value):
    """The JS SDK wraps captureMessage (and non-Error throws) in a synthetic exception."""
    return bool(mechanism(value).get("synthetic"))


def is_message_wrapper(value):
    """A synthetic exception without a type carries only a message: treat the event as a message."""
    return is_synthetic(value) and not value.get("type")


def main_exceptions(data):
    """The exception(s) that name the issue.

    Chains run oldest first, so the last one wins. In an exception group (Python ExceptionGroup, JS
    AggregateError) the distinct leaves matter: one distinct leaf names the issue by itself; several
    name it together with the group that holds them. Returns (main, extra_leaf_types).
    """
    values = exception_values(data)
    if not values:
        return None, []
    if not any(mechanism(v).get("is_exception_group") for v in values):
        return values[-1], []
    parents = {mechanism(v).get("parent_id") for v in values} - {None}
    leaves = [
        v
        for v in values
        if mechanism(v).get("exception_id") not in parents
        and not mechanism(v).get("is_exception_group")
    ]
    roots = [v for v in values if mechanism(v).get("parent_id") is None]
    root = roots[0] if roots else values[-1]
    distinct: dict[tuple, dict] = {}
    for leaf in leaves:
        distinct.setdefault((leaf.get("type"), frame_signature(leaf)), leaf)
    if len(distinct) == 1:
        return next(iter(distinct.values())), []
    return root, sorted({str(leaf.get("type") or "") for leaf in leaves})


def frame_signature(value):
    return tuple(tuple(part) for part in grouping_frames(frames_of(value)))


def mechanism_type(value):
    mech = value.get("mechanism")
    return mech.get("type") if isinstance(mech, dict) and mech.get("type") != "generic" else None


def top_frame(data):
    """The crashing frame of the main exception: its last in-app frame, else its last frame."""
    main, _ = main_exceptions(data)
    frames = frames_of(main) if main else []
    in_app = [f for f in frames if f.get("in_app") is True]
    return (in_app or frames or [None])[-1]
