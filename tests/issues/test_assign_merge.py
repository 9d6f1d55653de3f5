"""lifecycle.assign and lifecycle.merge against a real database, with events from the digest."""

import pytest

from bugsink_issues import lifecycle, signals
from bugsink_issues.lifecycle import merging
from bugsink_issues.models import Event, Grouping, Issue, IssueHistory, IssueTagValue, UserFeedback
from bugsink_issues.models.issues import HistoryKind, parse_short_id
from tests.factories import make_project, make_team, make_user, python_exception, spooled


@pytest.fixture
def team_world(db, digest):
    alice, carol, bob = make_user("alice"), make_user("carol"), make_user("bob")
    team = make_team("Team A", admins=[alice], members=[carol])
    other = make_team("Team B", admins=[bob])
    project = make_project("Web", team=team)
    digest(
        [
            spooled(project, python_exception("ValueError", "a", release="1.0", tags={"k": "x"})),
            spooled(project, python_exception("ValueError", "a", release="1.1", tags={"k": "x"})),
            spooled(
                project, python_exception("KeyError", "b", frames=(("m", "f"),), tags={"k": "y"})
            ),
            spooled(
                project, python_exception("KeyError", "b", frames=(("m", "f"),), tags={"k": "x"})
            ),
            spooled(project, python_exception("TypeError", "c", frames=(("n", "g"),))),
        ]
    )
    issues = {i.title.split(":")[0]: i for i in Issue.objects.all()}
    return {"alice": alice, "carol": carol, "bob": bob, "team": team, "other": other,
            "project": project, **issues}  # fmt: skip


def test_short_ids_parse_and_name_issues(team_world):
    issue = team_world["KeyError"]
    assert issue.short_id == f"WEB-{issue.number}"
    assert parse_short_id("MY-APP-12") == ("my-app", 12)
    assert parse_short_id("WEB") is None and parse_short_id("WEB-x") is None
    assert list(Issue.objects.with_short_id(issue.short_id.lower())) == [issue]
    assert not Issue.objects.with_short_id("NOPE-1").exists()


def test_assign_to_a_user_a_team_and_nobody(team_world):
    world = team_world
    issue = world["ValueError"]
    sent = []
    signals.issue_assigned.connect(
        lambda **kw: sent.append(kw["assignee"]), weak=False, dispatch_uid="t"
    )
    try:
        lifecycle.assign(issue, world["carol"], user=world["alice"])
        issue.refresh_from_db()
        assert issue.assignee == world["carol"]
        lifecycle.assign(issue, world["team"], user=world["alice"])
        issue.refresh_from_db()
        assert issue.assignee == world["team"] and issue.assigned_user is None
        lifecycle.assign(issue, world["team"], user=world["alice"])  # no change, no entry
        lifecycle.assign(issue, None, user=world["alice"])
    finally:
        signals.issue_assigned.disconnect(dispatch_uid="t")
    issue.refresh_from_db()
    assert issue.assignee is None
    history = list(
        issue.history.filter(kind__in=["assigned", "unassigned"]).values_list("reason", flat=True)
    )
    assert history == ["assigned to carol", "assigned to team Team A", "unassigned"]
    assert set(IssueHistory.objects.filter(kind="assigned").values_list("user", flat=True)) == {
        world["alice"].pk
    }


def test_assign_only_to_who_can_see_the_project(team_world):
    world = team_world
    with pytest.raises(lifecycle.AssignmentError):
        lifecycle.assign(world["ValueError"], world["bob"])
    with pytest.raises(lifecycle.AssignmentError):
        lifecycle.assign(world["ValueError"], world["other"])
    world["carol"].is_active = False
    world["carol"].save()
    with pytest.raises(lifecycle.AssignmentError):
        lifecycle.assign(world["ValueError"], world["carol"])
    assert not IssueHistory.objects.filter(kind="assigned").exists()


def test_assigned_to_user_counts_the_users_teams(team_world):
    world = team_world
    lifecycle.assign(world["ValueError"], world["alice"])
    lifecycle.assign(world["KeyError"], world["team"])
    mine = Issue.objects.assigned_to_user(world["carol"])
    assert list(mine) == [world["KeyError"]]
    assert set(Issue.objects.assigned_to_user(world["alice"])) == {
        world["ValueError"],
        world["KeyError"],
    }


def test_merge_moves_events_keys_tags_feedback_and_counts(team_world, digest):
    world = team_world
    target, source = world["ValueError"], world["KeyError"]
    feedback_event = source.events.first_event().event_id
    digest([spooled(world["project"], {"event_id": feedback_event, "name": "n", "email": "e@x",
                                       "comments": "c"}, kind="user_report")])  # fmt: skip
    merged = lifecycle.merge([source, target], user=world["alice"], comment="same bug")
    assert merged == target
    target.refresh_from_db()
    source = Issue.including_merged.get(pk=source.pk)
    assert source.merged_into == target and source.event_count == 0
    assert not Issue.objects.filter(pk=source.pk).exists()  # no longer a live issue
    # Events: all at the target, numbered after its own, in their order.
    sequences = list(
        target.events.order_by("issue_sequence").values_list("issue_sequence", flat=True)
    )
    assert sequences == [1, 2, 3, 4]
    assert target.event_count == 4 and target.stored_event_count == 4
    events = target.events.only("id", "issue_sequence")
    first = events.first_event()
    assert events.next_event(events.next_event(first)).grouping.key == source.grouping_key
    # Keys: the source's key now leads to the target.
    assert set(Grouping.objects.filter(issue=target).values_list("key", flat=True)) == {
        target.grouping_key,
        source.grouping_key,
    }
    # Tag counts are summed per value.
    counts = dict(
        IssueTagValue.objects.filter(issue=target, key="k").values_list("tag_value__value", "count")
    )
    assert counts == {"x": 3, "y": 1}
    assert not IssueTagValue.objects.filter(issue=source).exists()
    assert UserFeedback.objects.get().issue_id == target.pk
    # History on both.
    assert (
        target.history.filter(kind=HistoryKind.MERGED).get().reason
        == f"merged {source.short_id} into this issue"
    )
    into = source.history.filter(kind=HistoryKind.MERGED_INTO).get()
    assert into.reason == f"merged into {target.short_id}" and into.user == world["alice"]
    assert into.comment == "same bug"


def test_new_events_of_a_merged_key_arrive_at_the_target(team_world, digest):
    world = team_world
    target = lifecycle.merge([world["ValueError"], world["KeyError"]])
    digest([spooled(world["project"], python_exception("KeyError", "b", frames=(("m", "f"),)))])
    target.refresh_from_db()
    assert target.event_count == 5
    assert (
        Event.objects.filter(issue=target).order_by("-issue_sequence").first().issue_sequence == 5
    )
    assert Issue.objects.count() == 2  # no new issue for the merged key


def test_merge_chains_and_deleting_the_target(team_world):
    world = team_world
    first = lifecycle.merge([world["ValueError"], world["KeyError"]], into=world["KeyError"])
    assert first == world["KeyError"]
    final = lifecycle.merge([world["KeyError"], world["TypeError"]], into=world["TypeError"])
    # The issue merged first now points straight at the last target.
    assert Issue.including_merged.get(pk=world["ValueError"].pk).merged_into == final
    assert final.event_count == 5
    lifecycle.delete(final)
    assert not Issue.including_merged.exists()
    assert not Event.objects.exists()


def test_merge_refusals(team_world):
    world = team_world
    with pytest.raises(lifecycle.MergeError, match="two"):
        lifecycle.merge([world["ValueError"]])
    other = make_project("Other", team=world["team"])
    from bugsink_issues.digest import digest_batch

    digest_batch([spooled(other, python_exception("ZeroDivisionError", "z"))])
    with pytest.raises(lifecycle.MergeError, match="different projects"):
        lifecycle.merge([world["ValueError"], Issue.objects.get(project=other)])


def test_merge_is_all_or_nothing(team_world, monkeypatch):
    world = team_world

    def broken(source, target):
        raise RuntimeError("disk full")

    monkeypatch.setattr(merging, "_merge_tag_counts", broken)
    with pytest.raises(RuntimeError):
        lifecycle.merge([world["ValueError"], world["KeyError"]])
    assert Issue.objects.count() == 3
    assert Event.objects.filter(issue=world["KeyError"]).count() == 2
    assert Grouping.objects.filter(issue=world["KeyError"]).count() == 1
    assert not IssueHistory.objects.filter(kind__in=["merged", "merged_into"]).exists()


def test_issue_numbers_are_allocated_once(team_world):
    from bugsink_issues.models import ProjectSettings

    project = team_world["project"]
    numbers = sorted(Issue.objects.filter(project=project).values_list("number", flat=True))
    assert numbers == [1, 2, 3]
    assert ProjectSettings.objects.allocate_issue_numbers(project.pk, 2) == [4, 5]
    assert ProjectSettings.objects.for_project(project.pk).last_issue_number == 5
    made = Issue.objects.create(
        project=project, grouping_key="k", title="t", first_seen=Issue.objects.first().first_seen,
        last_seen=Issue.objects.first().last_seen,
    )  # fmt: skip
    assert made.number == 6


def test_free_text_search_finds_merged_events_at_the_target(team_world):
    """The full-text documents of the merged issues' events follow them to the target."""
    from bugsink_issues.ui.search import text_filter

    world = team_world
    target = lifecycle.merge([world["ValueError"], world["TypeError"]], into=world["ValueError"])
    assert list(text_filter(Issue.objects.all(), "TypeError")) == [target]
    assert list(text_filter(Issue.objects.all(), "valueerror")) == [target]
