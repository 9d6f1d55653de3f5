"""The account settings read from the environment. Plain functions, no Django imports."""

import os


def oidc_from_env() -> dict | None:
    """allauth's openid_connect app from BUGSINK_OIDC_*; None when no issuer is set.

    The provider id is "sso", so the redirect URI to register is BASE_URL/accounts/oidc/sso/login/callback/.
    """
    issuer = os.environ.get("BUGSINK_OIDC_ISSUER", "").strip().rstrip("/")
    if not issuer:
        return None
    client_id = os.environ.get("BUGSINK_OIDC_CLIENT_ID", "").strip()
    secret = os.environ.get("BUGSINK_OIDC_CLIENT_SECRET", "")
    if not client_id or not secret:
        raise ValueError(
            "BUGSINK_OIDC_ISSUER is set: BUGSINK_OIDC_CLIENT_ID and BUGSINK_OIDC_CLIENT_SECRET "
            "are needed too (from the client registered at the provider)"
        )
    return {
        "provider_id": SSO_PROVIDER_ID,
        "name": os.environ.get("BUGSINK_OIDC_NAME", "").strip() or "SSO",
        "client_id": client_id,
        "secret": secret,
        "settings": {"server_url": issuer},
    }


SSO_PROVIDER_ID = "sso"


def sso_only(oidc: dict | None, require_mfa: bool) -> bool:
    """BUGSINK_SSO_ONLY: password login and sign-up off, everyone logs in through the provider."""
    from bugsink_site.env import env_bool

    only = env_bool("BUGSINK_SSO_ONLY", False)
    if only and oidc is None:
        raise ValueError("BUGSINK_SSO_ONLY needs an OpenID Connect provider (BUGSINK_OIDC_ISSUER)")
    if only and require_mfa:
        raise ValueError(
            "BUGSINK_SSO_ONLY and BUGSINK_REQUIRE_MFA: with SSO only, second factors are the "
            "identity provider's; require them there"
        )
    return only


def team_domains(raw: str) -> dict[str, str]:
    """BUGSINK_OIDC_TEAM_DOMAINS="example.com=Backend,example.org=Ops": domain -> team name."""
    mapping = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        domain, sep, team = item.partition("=")
        domain, team = domain.strip().lower().lstrip("@"), team.strip()
        if not sep or not domain or not team:
            raise ValueError(f"BUGSINK_OIDC_TEAM_DOMAINS: {item.strip()!r} is not domain=Team name")
        mapping[domain] = team
    return mapping


def login_failed_rate(*, per_account: int, per_address: int, seconds: int) -> str:
    """allauth's rate for failed logins: at most this many in `seconds` per client address and
    per account (the login entered, whether or not such an account exists)."""
    for name, value in (("per account", per_account), ("per address", per_address)):
        if value < 1:
            raise ValueError(f"failed logins {name} must be at least 1, not {value}")
    if seconds < 1:
        raise ValueError(f"BUGSINK_LOGIN_LOCKOUT_SECONDS must be at least 1, not {seconds}")
    return f"{per_address}/{seconds}s/ip,{per_account}/{seconds}s/key"
