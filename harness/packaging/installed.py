"""`python -m harness.packaging.installed MODULE`: MODULE imports from this interpreter's
site-packages (the installed wheel, not a checkout's src/), and so does every module under it."""

import importlib
import pkgutil
import sys
import sysconfig
from pathlib import Path


def main(argv):
    (name,) = argv
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    package = importlib.import_module(name)
    where = Path(package.__file__).resolve()
    if site not in where.parents:
        sys.exit(f"{name} was imported from {where}, not from the installed wheel in {site}")
    # Every submodule imports with only the declared dependencies installed (Django set up first:
    # models and admin modules need the app registry).
    import django

    django.setup()
    failed = []
    count = 0
    for module in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
        count += 1
        try:
            importlib.import_module(module.name)
        except Exception as exc:  # report them all, then fail
            failed.append(f"{module.name}: {type(exc).__name__}: {exc}")
    if failed:
        sys.exit("modules that do not import from the wheel:\n" + "\n".join(failed))
    print(f"{name}: {count + 1} modules import from {where.parent}")


if __name__ == "__main__":
    main(sys.argv[1:])
