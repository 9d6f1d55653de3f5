"""Releases: created the first time an event names them (or through the web API), ordered by
semver when every release of the project is semver, else by creation."""

import re

from bugsink_issues.models import Release

_SEMVER = re.compile(
    r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.\-]+))?(?:\+[0-9A-Za-z.\-]+)?$"
)


def semver_key(version):
    """A sortable tuple for a semver-ish version ("pkg@1.2.3-rc.1"), or None."""
    bare = version.rsplit("@", 1)[-1] if "@" in version else version
    match = _SEMVER.match(bare.strip())
    if not match:
        return None
    numbers = tuple(int(match.group(i) or 0) for i in range(1, 5))
    prerelease = match.group(5)
    if prerelease is None:
        return (*numbers, 1, ())
    identifiers = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in prerelease.split(".")
    )
    return (*numbers, 0, identifiers)


def _sort_key_text(key):
    if key is None:
        return ""
    return ".".join(f"{n:010d}" for n in key[:5]) + ("-" + repr(key[5]) if key[5] else "")


def observe_releases(project_id, seen):
    """seen: {version: (first_seen, last_seen)} from one batch. Returns {version: sort_order}."""
    if not seen:
        return {}
    existing = {
        r.version: r for r in Release.objects.filter(project_id=project_id, version__in=seen)
    }
    new = [
        Release(
            project_id=project_id,
            version=version,
            first_seen=first,
            last_seen=last,
            date_created=first,
            semver_sort_key=_sort_key_text(semver_key(version)),
        )
        for version, (first, last) in seen.items()
        if version not in existing
    ]
    for version, release in existing.items():
        first, last = seen[version]
        if release.first_seen is None:  # made through the web API before its first event
            Release.objects.filter(pk=release.pk).update(first_seen=first, last_seen=last)
        elif last > release.last_seen:
            Release.objects.filter(pk=release.pk).update(last_seen=last)
    if new:
        Release.objects.bulk_create(new, ignore_conflicts=True)
        reorder_releases(project_id)
    return release_orders(project_id, seen)


def reorder_releases(project_id):
    releases = list(Release.objects.filter(project_id=project_id))
    keys = {r.pk: semver_key(r.version) for r in releases}
    if all(key is not None for key in keys.values()):
        releases.sort(key=lambda r: (keys[r.pk], r.date_created, r.pk))
    else:
        releases.sort(key=lambda r: (r.date_created, r.pk))
    changed = []
    for position, release in enumerate(releases, start=1):
        if release.sort_order != position:
            release.sort_order = position
            changed.append(release)
    Release.objects.bulk_update(changed, ["sort_order"], batch_size=500)


def release_orders(project_id, versions):
    return dict(
        Release.objects.filter(project_id=project_id, version__in=list(versions)).values_list(
            "version", "sort_order"
        )
    )


def latest_release(project_id):
    return (
        Release.objects.filter(project_id=project_id)
        .order_by("-sort_order")
        .values_list("version", flat=True)
        .first()
    )


def ensure_release(project_id, version, **fields):
    """The project's release `version`, made (and the project's order recomputed) if it has none.
    `fields` (dates, ref, url) are set on a new row only. Returns (release, created)."""
    release = Release.objects.filter(project_id=project_id, version=version).first()
    if release is not None:
        return release, False
    Release.objects.bulk_create(
        [
            Release(
                project_id=project_id,
                version=version,
                semver_sort_key=_sort_key_text(semver_key(version)),
                **fields,
            )
        ],
        ignore_conflicts=True,  # an event of the same release, digested meanwhile
    )
    reorder_releases(project_id)
    return Release.objects.get(project_id=project_id, version=version), True
