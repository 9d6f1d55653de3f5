"""What happens at sign-up beyond allauth: joining the team of the invitation followed."""

from django.contrib import messages

from bugsink_issues import invitations


def join_invited_team(sender, request, user, **kwargs):
    """Signed up while following an invitation (for its address): into the team at once."""
    invitation = invitations.pending(request)
    if invitation is None:
        return
    try:
        invitations.accept(invitation, user)
    except invitations.InvitationRefused:
        return  # signed up with another address (open sign-up): the invitation stays
    invitations.forget(request)
    request.bugsink_joined_team_id = invitation.team_id  # AccountAdapter.get_signup_redirect_url
    messages.success(request, f"You joined {invitation.team}.")
