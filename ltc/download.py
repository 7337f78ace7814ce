"""Fetching dataset archives (plain HTTP(S) with resume, Google Drive through gdown, OneDrive share
links), verifying their sha256 and extracting them safely.

Nothing lands under its final name until it is complete and verified: a transfer goes to
``ARCHIVE.part`` (kept across runs, so a cut-off transfer resumes), an archive is unpacked into a
temporary folder and its files are moved into place only once every expected file is there.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tarfile
import tempfile
import time
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

import requests
from tqdm import tqdm

from ltc import DataError

log = logging.getLogger(__name__)

#: folders of the learn-to-cluster data layout; an archive's single top folder other than these is stripped
LAYOUT_DIRS = {"features", "labels", "knns"}


class DownloadError(RuntimeError):
    """A transfer that failed for good; the message names the URL and what to do."""


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def gdrive_id(url: str) -> str | None:
    """The file id of a Google Drive link (``uc?id=``, ``open?id=``, ``file/d/ID/...``) or ``gdrive:ID``; else None."""
    if url.startswith("gdrive:"):
        return url.split(":", 1)[1]
    parsed = urlparse(url)
    if parsed.hostname not in ("drive.google.com", "docs.google.com"):
        return None
    if "id" in parse_qs(parsed.query):
        return parse_qs(parsed.query)["id"][0]
    parts = parsed.path.split("/")
    return parts[parts.index("d") + 1] if "d" in parts else None


def direct_url(url: str) -> str:
    """OneDrive/SharePoint share links serve the file itself with ``download=1``; other URLs are unchanged."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    if host.endswith("sharepoint.com") or host == "1drv.ms":
        query = parse_qs(parsed.query)
        query["download"] = ["1"]
        return urlunparse(parsed._replace(query=urlencode(query, doseq=True)))
    return url


def http_download(url: str, part: Path, retries: int = 5, timeout: float = 60.0, backoff: float = 1.0) -> None:
    """Download ``url`` into ``part``, resuming from its current size with HTTP Range requests."""
    for attempt in range(retries + 1):
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with requests.get(url, headers=headers, stream=True, timeout=timeout) as resp:
                if resp.status_code == 416 and have:  # nothing left to fetch
                    return
                if resp.status_code >= 400:
                    raise DownloadError(f"{url} answered HTTP {resp.status_code}: check the dataset's url in the config.")
                resumed = have and resp.status_code == 206
                length = int(resp.headers.get("Content-Length", 0))
                expected = (have if resumed else 0) + length
                with open(part, "ab" if resumed else "wb") as f, tqdm(
                        total=expected or None, initial=have if resumed else 0, unit="B", unit_scale=True,
                        desc=part.name.removesuffix(".part")) as bar:
                    for block in resp.iter_content(1 << 16):
                        f.write(block)
                        bar.update(len(block))
                if length and part.stat().st_size < expected:
                    raise requests.ConnectionError(f"connection closed at {part.stat().st_size} of {expected} bytes")
                return
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as err:
            if attempt == retries:
                raise DownloadError(
                    f"Downloading {url} failed {retries + 1} times ({err}); the partial file {part} is kept: "
                    f"run again to resume.") from None
            log.warning("transfer of %s interrupted (%s); resuming (try %d of %d)", url, err, attempt + 2, retries + 1)
            time.sleep(backoff * (attempt + 1))


def fetch(url: str, archive: str | os.PathLike, sha256: str | None = None, retries: int = 5) -> str:
    """Make ``archive`` a verified copy of ``url`` and return its sha256.

    An existing ``archive`` is reused when it matches ``sha256`` (or when no checksum is pinned).
    Without a pinned checksum, the computed one is recorded in ``ARCHIVE.sha256`` and logged.
    """
    archive = Path(archive)
    archive.parent.mkdir(parents=True, exist_ok=True)
    if archive.exists():
        digest = sha256_file(archive)
        if sha256 is None or digest == sha256:
            log.info("reusing %s (sha256 %s)", archive, digest)
            return _record(archive, digest, sha256)
        log.warning("%s does not match the pinned sha256; downloading it again", archive)
        archive.unlink()
    part = archive.with_name(archive.name + ".part")
    file_id = gdrive_id(url)
    if file_id:
        import gdown  # only needed for Google Drive
        if gdown.download(id=file_id, output=str(part), quiet=False, resume=True) is None:
            raise DownloadError(f"Google Drive refused file {file_id} (quota or permissions): try again later or download it by hand into {archive}.")
    else:
        http_download(direct_url(url), part, retries=retries)
    digest = sha256_file(part)
    if sha256 is not None and digest != sha256:
        part.unlink()
        raise DataError(
            f"Checksum mismatch for {archive} from {url}: expected sha256 {sha256}, got {digest}; "
            f"the download was corrupt or the pinned sha256 is wrong: run again, or fix sha256 in the config.")
    os.replace(part, archive)
    return _record(archive, digest, sha256)


def _record(archive: Path, digest: str, pinned: str | None) -> str:
    if pinned is None:
        record = archive.with_name(archive.name + ".sha256")
        record.write_text(f"{digest}  {archive.name}\n")
        log.warning("no sha256 pinned for %s; computed %s (recorded in %s): pin it in the config", archive, digest, record)
    return digest


def _check_member(name: str, archive: Path, link_target: str | None = None) -> None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or name.startswith(("/", "\\")):
        raise DataError(f"Archive {archive} holds the unsafe path {name!r} (absolute or with '..'): refusing to extract it; get the archive from a trusted source.")
    if link_target is not None:
        resolved = os.path.normpath(os.path.join(str(path.parent), link_target))
        if os.path.isabs(link_target) or resolved == ".." or resolved.startswith("../"):
            raise DataError(f"Archive {archive} holds a link {name!r} -> {link_target!r} that escapes the target folder: refusing to extract it.")


def _unpack(archive: Path, into: Path) -> None:
    """Check every member, then unpack ``archive`` (tar, compressed or not, or zip) into ``into``."""
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    _check_member(info.filename, archive)
                    if (info.external_attr >> 16) & 0o170000 == 0o120000:
                        raise DataError(f"Archive {archive} holds a symbolic link {info.filename!r}: refusing to extract it.")
                zf.extractall(into)
            return
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            for m in members:
                if m.isdev() or m.isfifo():
                    raise DataError(f"Archive {archive} holds a device or pipe {m.name!r}: refusing to extract it.")
                _check_member(m.name, archive, m.linkname if m.issym() else None)
                if m.islnk():
                    _check_member(m.linkname, archive)
            tf.extractall(into, members=members, filter="data")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, OSError) as err:
        raise DataError(f"Archive {archive} is corrupt or not a tar/zip archive ({err}): delete it and run again to download a fresh copy.") from None


def _content_root(folder: Path) -> Path:
    """Strip single top folders (e.g. ``data/``) above the learn-to-cluster layout."""
    while True:
        entries = list(folder.iterdir())
        if len(entries) == 1 and entries[0].is_dir() and entries[0].name not in LAYOUT_DIRS:
            folder = entries[0]
        else:
            return folder


def extract(archive: str | os.PathLike, dest: str | os.PathLike, provides: list[str]) -> None:
    """Extract ``archive`` into ``dest`` safely; every path in ``provides`` (relative to dest) must be in it."""
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".extract-") as tmp:
        _unpack(archive, Path(tmp))
        root = _content_root(Path(tmp))
        files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink())
        missing = [p for p in provides if p not in files]
        if missing:
            raise DataError(
                f"Archive {archive} does not contain {', '.join(missing)} (it holds {', '.join(files[:10]) or 'nothing'}"
                f"{' ...' if len(files) > 10 else ''}): fix the dataset's 'provides' list in the config.")
        for rel in files:
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(root / rel), target)
