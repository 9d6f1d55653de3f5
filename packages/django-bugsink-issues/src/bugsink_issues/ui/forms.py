import zoneinfo

from django import forms
from django.contrib.auth import get_user_model
from django.db import models
from django.utils.text import capfirst

from bugsink_ingest.models import Project
from bugsink_issues.models import AlertChannel, ProjectSettings
from bugsink_issues.models.access import Invitation, Team, TeamRole, UserPreferences


class ProjectCreateForm(forms.ModelForm):
    team = forms.ModelChoiceField(queryset=Team.objects.none())

    class Meta:
        model = Project
        fields = ["name"]

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        team_field = self.fields["team"]
        assert isinstance(team_field, forms.ModelChoiceField)
        team_field.queryset = teams


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "rate_limit_per_minute"]


class ProjectSettingsForm(forms.ModelForm):
    SCRUBBING_FIELDS = (
        "scrub_data",
        "scrub_ip_addresses",
        "scrub_extra_fields",
        "scrub_safe_fields",
    )

    class Meta:
        model = ProjectSettings
        fields = [
            "retention_max_events",
            "retention_max_age_days",
            "grouping_version",
            "alerts_enabled",
            "alert_rate_per_hour",
            "scrub_data",
            "scrub_ip_addresses",
            "scrub_extra_fields",
            "scrub_safe_fields",
        ]
        widgets = {
            "scrub_extra_fields": forms.Textarea(attrs={"rows": 3}),
            "scrub_safe_fields": forms.Textarea(attrs={"rows": 3}),
        }

    def fieldsets(self):
        """(legend, bound fields) for the settings page."""
        general = [self[name] for name in self.fields if name not in self.SCRUBBING_FIELDS]
        return [
            ("Retention, grouping, alerts", general),
            ("Data scrubbing", [self[name] for name in self.SCRUBBING_FIELDS]),
        ]

    def save(self, commit=True):
        # Only the form's columns: the digest keeps stored_event_count and last_age_sweep_at up
        # to date meanwhile, and a full save would write back the values read with the page.
        row = super().save(commit=False)
        if commit:
            row.save(update_fields=self._meta.fields)
        return row

    def clean_grouping_version(self):
        from bugsink_issues.digest.grouping import VERSIONS

        version = self.cleaned_data["grouping_version"]
        if version not in VERSIONS:
            raise forms.ValidationError(f"Known versions: {', '.join(map(str, sorted(VERSIONS)))}.")
        return version


class AlertChannelForm(forms.ModelForm):
    class Meta:
        model = AlertChannel
        fields = ["kind", "name", "target", "secret", "on_new_issue", "on_regression", "on_unmute"]
        widgets = {"target": forms.TextInput()}


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name"]


def username_field():
    """The host's user model field people log in with (USERNAME_FIELD: an e-mail, a username)."""
    User = get_user_model()
    return User._meta.get_field(User.USERNAME_FIELD)


class AddMemberForm(forms.Form):
    """A member by what they log in with: the user model's USERNAME_FIELD, labelled as it is."""

    user = forms.CharField(max_length=254)
    role = forms.ChoiceField(choices=TeamRole.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        login_field = username_field()
        field = self.fields["user"]
        field.label = capfirst(login_field.verbose_name)
        field.widget.input_type = "email" if isinstance(login_field, models.EmailField) else "text"
        field.widget.attrs.update(placeholder=field.label, autocomplete="off")

    def clean_user(self):
        User = get_user_model()
        name = self.cleaned_data["user"].strip()
        user = User.objects.filter(**{User.USERNAME_FIELD: name}).first()
        if user is None:
            raise forms.ValidationError(f"No user with that {username_field().verbose_name}.")
        return user


class ProjectTeamForm(forms.Form):
    """The team a project belongs to, among the teams the user administers."""

    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        team_field = self.fields["team"]
        assert isinstance(team_field, forms.ModelChoiceField)
        team_field.queryset = teams


class InvitationForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["email", "role"]

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if (
            self.team is not None
            and self.team.memberships.filter(user__email__iexact=email).exists()
        ):
            raise forms.ValidationError(f"{email} is a member of {self.team} already.")
        return email


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = UserPreferences
        fields = ["time_zone", "theme"]

    def clean_time_zone(self):
        name = self.cleaned_data["time_zone"]
        if name not in zoneinfo.available_timezones() and name != "UTC":
            raise forms.ValidationError("Unknown time zone (use a name like Europe/Amsterdam).")
        return name
