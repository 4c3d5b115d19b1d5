"""The built package, installed as a user installs it: ``make wheel-check`` (part of
``make test``).

1. Builds the wheel and the sdist with ``python -m build --no-isolation`` (the backend
   already installed in .venv, so nothing is fetched for the build).
2. Checks what they hold: the four packages with their ``py.typed``, the license, the
   README as the long description, the one version, the pytest plugin's entry point, and
   none of the tests, benchmarks or examples.
3. For each extra (``langchain``, ``llama-index``) installs the wheel with only that extra
   into a fresh virtualenv (``.venv-wheel/<extra>``, from the package registry), and runs
   ``run_quickstart.py`` there, from a directory outside the clone: the README's first
   snippet for that framework against the emulator the wheel ships, the pytest plugin's
   entry point, the CLI, and that the other framework was not installed.

Run it with the project's .venv python: ``.venv/bin/python tests/packaging/check_wheel.py``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENVS = ROOT / ".venv-wheel"
PACKAGES = ("minimax_m3", "langchain_minimax_m3", "llama_index_minimax_m3", "pytest_minimax_m3")
EXTRAS = ("langchain", "llama-index")


def version() -> str:
    text = (ROOT / "minimax_m3" / "_version.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
    if found is None:
        raise SystemExit("minimax_m3/_version.py has no __version__ line")
    return found.group(1)


def build(into: Path) -> tuple[Path, Path]:
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(into), str(ROOT)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wheels, sdists = sorted(into.glob("*.whl")), sorted(into.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise SystemExit(f"expected one wheel and one sdist, got {wheels + sdists}")
    return wheels[0], sdists[0]


def check_wheel_contents(wheel: Path, expected_version: str) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    dist_info = f"minimax_m3-{expected_version}.dist-info"
    required = {f"{package}/py.typed" for package in PACKAGES} | {
        f"{package}/__init__.py" for package in PACKAGES
    }
    required |= {f"{dist_info}/licenses/LICENSE", f"{dist_info}/entry_points.txt"}
    required |= {"minimax_m3/testing/__main__.py"}
    missing = sorted(required - names)
    stray = sorted(n for n in names if n.split("/")[0] in {"tests", "benchmarks", "examples"})
    if missing or stray:
        raise SystemExit(f"{wheel.name}: missing {missing}; should not hold {stray}")
    archive = zipfile.ZipFile(wheel)
    metadata = archive.read(f"{dist_info}/METADATA").decode()
    entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
    for needle, where in (
        (f"Version: {expected_version}\n", "METADATA"),
        ("Provides-Extra: langchain\n", "METADATA"),
        ("Provides-Extra: llama-index\n", "METADATA"),
        ("Description-Content-Type: text/markdown\n", "METADATA"),
        ("## Testing your own code offline", "METADATA"),
    ):
        if needle not in metadata:
            raise SystemExit(f"{wheel.name}: {where} lacks {needle.strip()!r}")
    if "minimax_m3 = pytest_minimax_m3" not in entry_points:
        raise SystemExit(f"{wheel.name}: no pytest11 entry point for the plugin")


def check_sdist_contents(sdist: Path, expected_version: str) -> None:
    top = f"minimax_m3-{expected_version}"
    with tarfile.open(sdist) as archive:
        names = set(archive.getnames())
    required = {f"{top}/{name}" for name in ("pyproject.toml", "README.md", "LICENSE")}
    required |= {f"{top}/CHANGELOG.md", f"{top}/PKG-INFO"}
    required |= {f"{top}/{package}/py.typed" for package in PACKAGES}
    missing = sorted(required - names)
    if missing:
        raise SystemExit(f"{sdist.name}: missing {missing}")


def install(wheel: Path, extra: str) -> Path:
    """A fresh virtualenv holding the wheel with one extra; returns its python."""
    home = VENVS / extra
    shutil.rmtree(home, ignore_errors=True)
    venv.create(home, with_pip=True, clear=True)
    python = home / "bin" / "python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            # Byte-compiling every file of llama-index-core's dependencies took longer
            # than downloading them; the few modules the check imports compile as used.
            "--no-compile",
            f"{wheel}[{extra}]",
        ],
        check=True,
    )
    return python


def run_quickstart(python: Path, extra: str) -> None:
    with tempfile.TemporaryDirectory(prefix="wheel-quickstart-") as outside:
        # Copied out of the clone and run from there, so nothing imports from the source
        # tree: the packages can only come from the virtualenv's site-packages.
        script = Path(outside, "run_quickstart.py")
        shutil.copy(Path(__file__).with_name("run_quickstart.py"), script)
        shutil.copy(ROOT / "README.md", Path(outside, "README.md"))
        subprocess.run(
            [str(python), "-I", str(script), extra, str(Path(outside, "README.md"))],
            check=True,
            cwd=outside,
        )


def main() -> int:
    started = time.monotonic()
    expected = version()
    with tempfile.TemporaryDirectory(prefix="wheel-build-") as out:
        wheel, sdist = build(Path(out))
        check_wheel_contents(wheel, expected)
        check_sdist_contents(sdist, expected)
        print(f"built {wheel.name} and {sdist.name}: contents as expected", flush=True)
        for extra in EXTRAS:
            began = time.monotonic()
            python = install(wheel, extra)
            run_quickstart(python, extra)
            print(f"[{extra}] installed and ran in {time.monotonic() - began:.0f} s", flush=True)
    print(f"wheel check passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
