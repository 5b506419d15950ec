"""Installed size of a deployment (the runtime only) against the full install (the generator
too), each in a fresh venv, without the venv's own pip and setuptools.

    python bench/install_size.py

Builds the wheel, then installs `spec-first-codegen` (runtime) and
`spec-first-codegen[generator]` into two venvs, with the lock file's versions (constraints).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
VENV_OWN = ("pip", "setuptools", "_distutils_hack", "distutils-precedence.pth")


def build_wheel(into: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(into), str(ROOT)], check=True)
    return next(into.glob("*.whl"))


def install(venv: Path, requirement: str) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "-c", str(LOCK), requirement],
        check=True,
    )


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python*/site-packages"))


def size(venv: Path) -> tuple[float, int]:
    """MB and distributions in site-packages, leaving out what a fresh venv starts with."""
    total = 0
    distributions = 0
    for entry in site_packages(venv).iterdir():
        name = entry.name
        if name.startswith(VENV_OWN) or (name.endswith(".dist-info") and name.split("-")[0].lower() in ("pip", "setuptools")):
            continue
        if name.endswith(".dist-info"):
            distributions += 1
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        total += sum(p.stat().st_size for p in files)
    return total / 1e6, distributions


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="install-size-") as folder:
        tmp = Path(folder)
        wheel = build_wheel(tmp / "wheel")
        results = {}
        for label, requirement in (("runtime", str(wheel)), ("runtime + generator", f"{wheel}[generator]")):
            venv = tmp / label.replace(" ", "").replace("+", "-")
            install(venv, requirement)
            results[label] = size(venv)
    for label, (megabytes, distributions) in results.items():
        print(f"{label}: {megabytes:.1f} MB in {distributions} distributions")
    ratio = results["runtime"][0] / results["runtime + generator"][0]
    print(f"runtime / full: {ratio:.2f}")
    return 0 if ratio <= 1 / 3 else 1


if __name__ == "__main__":
    sys.exit(main())
