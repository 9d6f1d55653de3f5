"""`python -m harness.packaging.contents DIST_DIR PACKAGE_DIR [DIST_DIR PACKAGE_DIR ...]`: for each
pair, one wheel and one sdist in DIST_DIR of the version in PACKAGE_DIR/pyproject.toml, holding
every file git tracks under PACKAGE_DIR/src (templates and static files too); the sdist holds the
README, the CHANGELOG (with a section for that version) and pyproject.toml besides. Every problem
of every pair is printed before it fails."""

import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.parser import HeaderParser
from pathlib import Path


def tracked_sources(package_dir: Path) -> set[str]:
    """Paths relative to src/ of the files git tracks there (no build leftovers, no caches)."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--", "src"],
        cwd=package_dir,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return {path.removeprefix("src/") for path in out.split("\0") if path}


def problems(dist_dir: Path, package_dir: Path) -> list[str]:
    wheels, sdists = sorted(dist_dir.glob("*.whl")), sorted(dist_dir.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        return [f"expected one wheel and one sdist in {dist_dir}: {wheels + sdists}"]
    version = tomllib.loads((package_dir / "pyproject.toml").read_text())["project"]["version"]
    sources = tracked_sources(package_dir)
    found = []

    with zipfile.ZipFile(wheels[0]) as wheel:
        names = set(wheel.namelist())
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        headers = HeaderParser().parsestr(wheel.read(metadata).decode())
    if headers["Version"] != version:
        found.append(f"wheel version {headers['Version']}, pyproject.toml says {version}")
    for path in sorted(sources - names):
        found.append(f"wheel lacks {path}")
    for path in sorted(n for n in names - sources if ".dist-info/" not in n):
        found.append(f"wheel has {path}, which git does not track under src/")

    with tarfile.open(sdists[0]) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
        changelog = None
        for member in sdist.getmembers():
            if member.name.split("/", 1)[-1] == "CHANGELOG.md":
                changelog = sdist.extractfile(member).read().decode()
    for path in ("README.md", "CHANGELOG.md", "pyproject.toml"):
        if path not in members:
            found.append(f"sdist lacks {path}")
    for path in sorted(sources - {m.removeprefix("src/") for m in members}):
        found.append(f"sdist lacks src/{path}")
    if changelog is not None and version not in changelog:
        found.append(f"CHANGELOG.md has no section for {version}")
    return found


def main(argv):
    failed = False
    for dist_dir, package_dir in zip(argv[::2], argv[1::2], strict=True):
        found = problems(Path(dist_dir), Path(package_dir))
        name = Path(package_dir).name
        for line in found:
            print(f"{name}: {line}", file=sys.stderr)
        if not found:
            print(f"{name}: wheel and sdist hold what they should")
        failed = failed or bool(found)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
