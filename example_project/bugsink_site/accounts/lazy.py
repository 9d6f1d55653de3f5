"""WebAuthn's code, loaded only where WebAuthn is on (BUGSINK_MFA_WEBAUTHN).

allauth.mfa imports its WebAuthn module at every login (the login stages, the MFA views import
it), and that module imports fido2 and cryptography: some 13 MiB in each process, for code that
runs only inside WebAuthn's own steps. With WebAuthn off none of them runs, so the module is left
unexecuted until a name of it is used (importlib's LazyLoader): never.
"""

import importlib.util
import sys

WEBAUTHN_MODULE = "allauth.mfa.webauthn.internal.auth"


def defer_webauthn() -> bool:
    """Make WEBAUTHN_MODULE lazy; False if it was imported already (then nothing changes)."""
    if WEBAUTHN_MODULE in sys.modules:
        return False
    spec = importlib.util.find_spec(WEBAUTHN_MODULE)
    if spec is None or spec.loader is None:
        return False
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[WEBAUTHN_MODULE] = module
    spec.loader.exec_module(module)
    parent, _, child = WEBAUTHN_MODULE.rpartition(".")
    setattr(sys.modules[parent], child, module)
    return True
