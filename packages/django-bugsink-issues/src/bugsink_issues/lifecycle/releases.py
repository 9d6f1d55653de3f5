"""Releases: created the first time an event names them (or through the web API), and ordered
within their package.

A release "myshop@1.2.0" belongs to the package "myshop" ("1.2.0" to the package ""). Only releases
of one package compare: `myshop@1.4.0` is later than `myshop@1.2.0` whatever `frontend@3.1.0` is.
Within a package the order is semver when every release of the package parses as semver, else the
order of creation (the first event, or `releases new`); `Release.sort_order` is the position in
that order (1 = oldest).
"""

import re
from collections import defaultdict

from django.db.models import F

from bugsink_issues.models import Release

__all__ = [
    "ensure_release",
    "is_later",
    "latest_release",
    "observe_releases",
    "package_of",
    "release_orders",
    "reorder_releases",
    "semver_key",
    "version_of",
]


_SEMVER = re.compile(
    r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.\-]+))?(?:\+[0-9A-Za-z.\-]+)?$"
)


def package_of(version):
    """ "myshop@1.2.0" -> "myshop", "@scope/app@2.0" -> "@scope/app", "1.2.0" -> ""."""
    name, sep, _ = version.rpartition("@")
    return name if sep else ""


def version_of(release):
    """The version without its package: "myshop@1.2.0" -> "1.2.0"."""
    return release.rpartition("@")[2]


def semver_key(version):
    """A sortable tuple for a semver-ish version ("pkg@1.2.3-rc.1"), or None."""
    match = _SEMVER.match(version_of(version).strip())
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
    """seen: {version: (first_seen, last_seen)} from one batch. Returns release_orders() of them."""
    if not seen:
        return {}
    existing = {
        r.version: r for r in Release.objects.filter(project_id=project_id, version__in=seen)
    }
    new = [
        Release(
            project_id=project_id,
            version=version,
            package=package_of(version),
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
        reorder_releases(project_id, packages={r.package for r in new})
    return release_orders(project_id, seen)


def in_release_order(releases):
    """The releases of one package, oldest first: semver if all parse, else creation."""
    keys = {r.pk: semver_key(r.version) for r in releases}
    if all(key is not None for key in keys.values()):
        return sorted(releases, key=lambda r: (keys[r.pk], r.date_created, r.pk))
    return sorted(releases, key=lambda r: (r.date_created, r.pk))


def reorder_releases(project_id, packages=None):
    """Recompute sort_order of the project's releases (of `packages` only, if given)."""
    rows = Release.objects.filter(project_id=project_id)
    if packages is not None:
        rows = rows.filter(package__in=list(packages))
    by_package = defaultdict(list)
    for release in rows:
        by_package[release.package].append(release)
    changed = []
    for group in by_package.values():
        for position, release in enumerate(in_release_order(group), start=1):
            if release.sort_order != position:
                release.sort_order = position
                changed.append(release)
    Release.objects.bulk_update(changed, ["sort_order"], batch_size=500)


def release_orders(project_id, versions):
    """{version: (package, position in the package)} of the project's known releases."""
    return {
        version: (package, order)
        for version, package, order in Release.objects.filter(
            project_id=project_id, version__in=list(versions)
        ).values_list("version", "package", "sort_order")
    }


def is_later(version, than, orders):
    """Is release `version` later than `than`? None when it cannot tell: another package, or a
    release not in `orders` (see release_orders) whose version is not semver either (a release
    named before any event carried it, say "resolved in myshop@2.0.0", compares by semver)."""
    if package_of(version) != package_of(than):
        return None
    a, b = orders.get(version), orders.get(than)
    if a is not None and b is not None:
        return a[1] > b[1]
    key_a, key_b = semver_key(version), semver_key(than)
    if key_a is None or key_b is None:
        return None
    return key_a > key_b


def latest_release(project_id, package=None):
    """The latest release of `package` in the project (of the package of the release seen last,
    when None), or None."""
    releases = Release.objects.filter(project_id=project_id)
    if package is None:
        package = (
            releases.order_by(F("last_seen").desc(nulls_last=True), "-pk")
            .values_list("package", flat=True)
            .first()
        )
        if package is None:
            return None
    return (
        releases.filter(package=package)
        .order_by("-sort_order")
        .values_list("version", flat=True)
        .first()
    )


def ensure_release(project_id, version, **fields):
    """The project's release `version`, made (and its package's order recomputed) if it has none.
    `fields` (dates, ref, url) are set on a new row only. Returns (release, created)."""
    release = Release.objects.filter(project_id=project_id, version=version).first()
    if release is not None:
        return release, False
    package = package_of(version)
    Release.objects.bulk_create(
        [
            Release(
                project_id=project_id,
                version=version,
                package=package,
                semver_sort_key=_sort_key_text(semver_key(version)),
                **fields,
            )
        ],
        ignore_conflicts=True,  # an event of the same release, digested meanwhile
    )
    reorder_releases(project_id, packages={package})
    return Release.objects.get(project_id=project_id, version=version), True
