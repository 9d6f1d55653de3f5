"""The sign-up form: while an invitation is being followed, for exactly the invited address."""

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context
from django import forms
from django.conf import settings

from bugsink_issues import invitations


class SignupForm(AllauthSignupForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitation = invitations.pending(context.request)
        if self.invitation is not None:
            email = self.fields["email"]
            email.initial = self.invitation.email
            email.widget.attrs["readonly"] = True
            email.help_text = f"The address {self.invitation.team} invited."

    def clean_email(self):
        value = super().clean_email()
        invited = self.invitation.email if self.invitation else None
        if invited and value != invited and not settings.OPEN_SIGNUP:
            raise forms.ValidationError(f"This sign-up is for {invited}, the invited address.")
        return value
