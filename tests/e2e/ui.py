"""Reading issues back from the running deployment: through its UI, logged in as its admin.

One place knows the UI's URLs, so that a change there is a change here only. The test process
resolves them with Django's reverse() (tests.urls mounts bugsink_issues.urls at the root, as the
deployment does).

Until the issues UI provides those pages, `reader_for()` falls back to reading the deployment's
own database through its manage.py (real processes, real files, but not the UI), and says so.
"""

import json
import re
import time
from dataclasses import dataclass
from importlib.util import find_spec

import pytest
from django.urls import NoReverseMatch, reverse

from harness.deployment import UIClient

# The URL names the end-to-end tests read, in the issues app's namespace.
ISSUE_LIST = "bugsink_issues:project_issues"  # project_id: the project's issues, linking to each
ISSUE_DETAIL = "bugsink_issues:issue"  # issue_id: what the list links to
ISSUE_EXPORT = "bugsink_issues:issue_export"  # issue_id, fmt="json": title, event_count, ...
EVENT_BY_ID = "bugsink_issues:event_by_id"  # issue_id, event_id: 302 if the issue has it, else 404


@dataclass
class IssueSeen:
    issue_id: int
    title: str
    event_ids: set[str]  # those known to be in it (all of them when read from the database)
    event_count: int


def missing_ui_urls() -> list[str]:
    missing = []
    for name, kwargs in (
        (ISSUE_LIST, {"project_id": 1}),
        (ISSUE_DETAIL, {"issue_id": 1}),
        (ISSUE_EXPORT, {"issue_id": 1, "fmt": "json"}),
        (EVENT_BY_ID, {"issue_id": 1, "event_id": "0" * 32}),
    ):
        try:
            reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            missing.append(name)
    return missing


def require_ui():
    """Skip (with the reason) until the issues app provides the pages the e2e tests read."""
    if missing := missing_ui_urls():
        pytest.skip(f"the issues UI does not provide {', '.join(missing)} yet")


def reader_for(site):
    """The UI when it exists, else the database (see the module's docstring)."""
    if not missing_ui_urls():
        return IssuesUI(site.browser().login(), site.demo_project_id())
    if find_spec("bugsink_issues.models") is None:
        pytest.skip("neither the issues UI nor its models exist yet")
    print(f"NOTE: reading issues from the database: the UI lacks {missing_ui_urls()}")
    return DatabaseReader(site, site.demo_project_id())


class IssueReader:
    """Polling helpers over issues() and missing_events(), whichever way they are read."""

    def issues(self) -> list[IssueSeen]:
        raise NotImplementedError

    def missing_events(self, issue: IssueSeen, event_ids: set[str]) -> set[str]:
        """Which of event_ids the issue does not hold."""
        return set(event_ids) - issue.event_ids

    def wait_for_events(self, expected: dict[str, set[str]], timeout=20.0) -> dict[str, IssueSeen]:
        """Wait until, for each marker, one issue whose title has the marker holds all its events.

        expected: marker -> event ids. Returns marker -> the issue seen.
        """
        deadline = time.monotonic() + timeout
        while True:
            found, problems = {}, []
            issues = self.issues()
            for marker, event_ids in expected.items():
                matching = [i for i in issues if marker in i.title]
                if len(matching) != 1:
                    problems.append(f"{marker}: {len(matching)} issues")
                    continue
                issue = matching[0]
                if issue.event_count < len(event_ids):
                    problems.append(f"{marker}: {issue.event_count} of {len(event_ids)} events")
                    continue
                if missing := self.missing_events(issue, event_ids):
                    problems.append(f"{marker}: missing {sorted(missing)[:5]}")
                    continue
                found[marker] = issue
            if not problems:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"after {timeout}s: {'; '.join(problems)}")
            time.sleep(0.2)

    def wait_for_marked(self, marker: str, issue_count: int, event_ids: set[str], timeout=20.0):
        """Wait until exactly issue_count issues have the marker in their title and hold event_ids."""
        deadline = time.monotonic() + timeout
        while True:
            issues = [i for i in self.issues() if marker in i.title]
            missing = set(event_ids)
            for issue in issues:
                missing &= self.missing_events(issue, missing)
            if len(issues) == issue_count and not missing:
                return issues
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"after {timeout}s: {len(issues)} issues for {marker}, "
                    f"missing events {sorted(missing)[:5]}"
                )
            time.sleep(0.2)


class IssuesUI(IssueReader):
    def __init__(self, client: UIClient, project_id: int):
        self.client = client
        self.project_id = project_id
        self._confirmed: dict[int, set[str]] = {}  # issue id -> event ids its pages answered for

    def issue_ids(self) -> list[int]:
        path = reverse(ISSUE_LIST, kwargs={"project_id": self.project_id})
        status, _, page = self.client.get(path)
        assert status == 200, f"{path}: {status}"
        # Issue ids from the list's links to issue pages.
        sentinel = "987654321"
        link = re.escape(reverse(ISSUE_DETAIL, kwargs={"issue_id": int(sentinel)}))
        pattern = 'href="' + link.replace(sentinel, r"(\d+)") + '"'
        return sorted({int(m) for m in re.findall(pattern, page)})

    def issue(self, issue_id: int) -> IssueSeen:
        path = reverse(ISSUE_EXPORT, kwargs={"issue_id": issue_id, "fmt": "json"})
        status, _, body = self.client.get(path)
        assert status == 200, f"{path}: {status} {body[:500]}"
        data = json.loads(body)
        return IssueSeen(
            issue_id=issue_id,
            title=data["title"],
            event_ids=set(self._confirmed.get(issue_id, ())),
            event_count=int(data["event_count"]),
        )

    def issues(self) -> list[IssueSeen]:
        return [self.issue(issue_id) for issue_id in self.issue_ids()]

    def missing_events(self, issue: IssueSeen, event_ids: set[str]) -> set[str]:
        """Asks the event permalink of the issue for each id: a redirect to the event, or 404."""
        confirmed = self._confirmed.setdefault(issue.issue_id, set())
        missing = set()
        for event_id in set(event_ids) - confirmed:
            path = reverse(EVENT_BY_ID, kwargs={"issue_id": issue.issue_id, "event_id": event_id})
            status = self.client.status_without_redirect(path)
            if status == 302:
                confirmed.add(event_id)
            elif status == 404:
                missing.add(event_id)
            else:
                raise AssertionError(f"{path}: unexpected {status}")
        return missing


# Runs inside the deployment's `manage.py shell`: the project's issues with their event ids, as JSON.
_DUMP_ISSUES = """
import json
from bugsink_issues.models import Issue
out = []
for issue in Issue.objects.filter(project_id={project_id}):
    out.append({{"issue_id": issue.id, "title": issue.title, "event_count": issue.event_count,
                "event_ids": list(issue.events.values_list("event_id", flat=True))}})
print("ISSUES" + json.dumps(out))
"""


class DatabaseReader(IssueReader):
    def __init__(self, site, project_id: int):
        self.site = site
        self.project_id = project_id

    def issues(self) -> list[IssueSeen]:
        output = self.site.manage("shell", "-c", _DUMP_ISSUES.format(project_id=self.project_id))
        rows = json.loads(output.split("ISSUES", 1)[1])
        return [
            IssueSeen(
                issue_id=r["issue_id"],
                title=r["title"],
                event_ids={e.replace("-", "") for e in r["event_ids"]},
                event_count=r["event_count"],
            )
            for r in rows
        ]
