import zoneinfo

from django import forms
from django.contrib.auth import get_user_model

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
    class Meta:
        model = ProjectSettings
        fields = [
            "retention_max_events",
            "retention_max_age_days",
            "grouping_version",
            "alerts_enabled",
            "alert_rate_per_hour",
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


class AddMemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=TeamRole.choices)

    def clean_username(self):
        User = get_user_model()
        name = self.cleaned_data["username"]
        user = User.objects.filter(**{User.USERNAME_FIELD: name}).first()
        if user is None:
            raise forms.ValidationError("No user with that name.")
        return user


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
