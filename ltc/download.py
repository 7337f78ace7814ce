"""Fetching dataset archives (plain HTTP(S) with resume, Google Drive through gdown, OneDrive share
links), verifying them and extracting them safely.

Nothing lands under its final name until it is complete and verified: a transfer goes to
``ARCHIVE.part`` (kept across runs, so a cut-off transfer resumes), an archive is unpacked into a
temporary folder and its files are moved into place only once every expected file is there and
matches its published md5 sum.

What "verified" means here:

* the download is an archive at all: its first bytes are a gzip, bzip2, xz, zip or tar header, not
  an HTML page (Google Drive's virus-scan or quota page, a login page) or an empty file;
* the whole archive reads cleanly to its end: every member's data is read and so is the compressed
  stream up to end of file, so gzip's CRC-32 and length (ISIZE), bzip2's block and stream CRCs and
  xz's check are all verified; zip members are checked against their CRC-32; every tar header
  must pass its checksum and the tar data must end with its end-of-archive marker (a tar inside a
  compressor whose check passed may end at a block boundary without it). A plain ``.tar`` has no
  checksum over its data: pin its sha256 or its files' md5 sums;
* the gzip header itself must be well formed (method 8, no reserved flag bits, its CRC-16 when it
  has one). Its modification time, extra-flags and OS bytes and the FTEXT flag are not covered by
  any check and change nothing that is extracted, so a damaged one of those is accepted;
* the pinned sha256 of the archive (``sha256``) and the published md5 sums of extracted files
  (``md5``), when given.

An archive that fails any of these is deleted (with its ``.sha256`` record) so that the next run
downloads it again, and a checksum is recorded next to an archive only once it has passed.
"""
from __future__ import annotations

import bz2
import errno
import gzip
import hashlib
import logging
import lzma
import os
import re
import shutil
import tarfile
import tempfile
import time
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

import requests
import urllib3
from tqdm import tqdm

from ltc import DataError, DownloadError  # noqa: F401  (DownloadError: raised here, imported from here by callers)

log = logging.getLogger(__name__)

#: folders of the learn-to-cluster data layout; an archive's single top folder other than these is stripped
LAYOUT_DIRS = {"features", "labels", "knns"}

#: archive name endings -> the format their content must have
_SUFFIX_KINDS = {".tar.gz": "gzip", ".tgz": "gzip", ".gz": "gzip", ".tar.bz2": "bzip2", ".tbz2": "bzip2",
                 ".tbz": "bzip2", ".tar.xz": "xz", ".txz": "xz", ".zip": "zip", ".tar": "tar"}

#: errno values of a full, read-only or forbidden file system: reported as such, the archive is kept
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


class _Corrupt(Exception):
    """Internal: the archive does not read cleanly; the message says what is wrong with it."""


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    """Hex sha256 of a file, read in ``chunk``-byte blocks."""
    return _hash_file(hashlib.sha256(), path, chunk)


def md5_file(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    """Hex md5 of a file (the sums the original project publishes for its data files)."""
    return _hash_file(hashlib.md5(usedforsecurity=False), path, chunk)


def _hash_file(digest, path, chunk: int) -> str:
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


def _total_of(content_range: str | None) -> int | None:
    """The full size in a ``Content-Range: bytes A-B/N`` or ``bytes */N`` header, else None."""
    match = re.search(r"/(\d+)\s*$", content_range or "")
    return int(match.group(1)) if match else None


def http_download(url: str, part: Path, retries: int = 5, timeout: float = 60.0, backoff: float = 1.0) -> None:
    """Download ``url`` into ``part``, resuming from its current size with HTTP Range requests.

    A reply that does not continue where ``part`` ends (a server that ignores Range, or a 206 from
    another offset) starts the file over; a ``part`` longer than the file on the server is dropped.
    When the transfer keeps being cut off, ``part`` is kept for the next run if the server resumes
    transfers and deleted if it does not. Raises DownloadError (one sentence) when it fails for good.
    """
    resumable = True
    for attempt in range(retries + 1):
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with requests.get(url, headers=headers, stream=True, timeout=timeout) as resp:
                if resp.status_code == 416 and have:  # nothing left to fetch, or part is longer than the file
                    total = _total_of(resp.headers.get("Content-Range"))
                    if total is None or total == have:
                        return
                    log.warning("%s holds %d bytes but %s has %d; downloading it again", part, have, url, total)
                    part.unlink()
                    continue
                if resp.status_code >= 400:
                    raise DownloadError(f"{url} answered HTTP {resp.status_code}: check the dataset's url in the config.")
                resumed = bool(have) and resp.status_code == 206
                if resumed and not resp.headers.get("Content-Range", "").startswith(f"bytes {have}-"):
                    log.warning("%s resumed at another offset (%s); downloading it again", url,
                                resp.headers.get("Content-Range"))
                    part.unlink()
                    continue
                if have and not resumed:
                    resumable = False
                    log.warning("%s does not resume transfers (HTTP %d to a Range request); starting over",
                                url, resp.status_code)
                length = int(resp.headers.get("Content-Length", 0))
                expected = (have if resumed else 0) + length
                with open(part, "ab" if resumed else "wb") as f, tqdm(
                        total=expected or None, initial=have if resumed else 0, unit="B", unit_scale=True,
                        desc=part.name.removesuffix(".part")) as bar:
                    # the bytes as served: a server that labels a .tar.gz "Content-Encoding: gzip" must not
                    # have it unpacked on the way (nor its length no longer match Content-Length)
                    for block in resp.raw.stream(1 << 16, decode_content=False):
                        f.write(block)
                        bar.update(len(block))
                size = part.stat().st_size
                if length and size < expected:
                    raise requests.ConnectionError(f"connection closed at {size} of {expected} bytes")
                if length and size > expected:
                    part.unlink()
                    raise DownloadError(f"{url} sent {size} bytes where it announced {expected}: try again later.")
                return
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                urllib3.exceptions.HTTPError) as err:
            if attempt == retries:
                if not resumable:
                    part.unlink(missing_ok=True)
                    raise DownloadError(
                        f"Downloading {url} failed {retries + 1} times ({err}) and the server does not resume "
                        f"transfers, so the partial file was deleted: run again, or download it by hand into "
                        f"{part.with_name(part.name.removesuffix('.part'))}.") from None
                raise DownloadError(
                    f"Downloading {url} failed {retries + 1} times ({err}); the partial file {part} is kept: "
                    f"run again to resume.") from None
            log.warning("transfer of %s interrupted (%s); resuming (try %d of %d)", url, err, attempt + 2, retries + 1)
            time.sleep(backoff * (attempt + 1))
    raise DownloadError(f"Downloading {url} kept restarting ({retries + 1} tries): try again later.")


def expected_kind(archive: str | os.PathLike) -> str | None:
    """The archive format its name announces (``gzip``, ``bzip2``, ``xz``, ``zip``, ``tar``), or None."""
    name = Path(archive).name.lower()
    for suffix in sorted(_SUFFIX_KINDS, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIX_KINDS[suffix]
    return None


def _suffix(archive: Path) -> str:
    name = archive.name.lower()
    return next((s for s in sorted(_SUFFIX_KINDS, key=len, reverse=True) if name.endswith(s)), archive.suffix)


def sniff(path: str | os.PathLike) -> tuple[str | None, str]:
    """(format, description) of a file from its first bytes: format is ``gzip``, ``bzip2``, ``xz``,
    ``zip`` or ``tar`` (None when it is none of them) and description says what it is, in words."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if head.startswith(b"\x1f\x8b"):
        return "gzip", "a gzip file"
    if head.startswith(b"BZh") and head[3:4].isdigit():
        return "bzip2", "a bzip2 file"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz", "an xz file"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip", "a zip archive"
    if len(head) >= 512:
        try:
            tarfile.TarInfo.frombuf(head[:512], "utf-8", "surrogateescape")
            return "tar", "a tar archive"
        except tarfile.HeaderError:
            pass
    if size == 0:
        return None, "an empty file"
    text = head[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<") and (b"<html" in text or text.startswith(b"<!doctype html")):
        return None, "an HTML page"
    if text.startswith(b"<"):
        return None, "an XML or HTML document"
    try:
        text = head[:200].decode("utf-8")
    except UnicodeDecodeError as err:  # a character cut at the end of the sample is fine, any other is not text
        text = head[:err.start].decode("utf-8") if err.start >= 196 else ""
    lines = text.strip().splitlines()
    if lines and lines[0].isprintable():
        return None, f"a text file starting {lines[0][:40]!r}"
    return None, f"{size} bytes of unrecognised data (starting {head[:8].hex()})"


def _gzip_header_problem(head: bytes) -> str | None:
    """What is wrong with the header of the gzip member starting ``head``, or None (RFC 1952)."""
    if len(head) < 10:
        return "the gzip header is cut short"
    if head[2] != 8:
        return f"the gzip header names compression method {head[2]}, not deflate"
    flags = head[3]
    if flags & 0xE0:
        return "the gzip header has reserved flag bits set"
    pos = 10
    if flags & 0x04:  # FEXTRA
        pos += 2 + int.from_bytes(head[10:12], "little")
    for flag in (0x08, 0x10):  # FNAME, FCOMMENT: zero-terminated
        if flags & flag:
            end = head.find(b"\0", pos)
            if end < 0:
                return "the gzip header's name or comment field does not end"
            pos = end + 1
    if flags & 0x02:  # FHCRC: the low 16 bits of the CRC-32 of the header so far
        if len(head) < pos + 2:
            return "the gzip header is cut short"
        if int.from_bytes(head[pos:pos + 2], "little") != zlib.crc32(head[:pos]) & 0xFFFF:
            return "the gzip header fails its CRC-16 check"
    if len(head) < pos:
        return "the gzip header is cut short"
    return None


class _TarInfo(tarfile.TarInfo):
    """Tar headers read strictly: tarfile ends an archive silently at a damaged or cut-off header
    after the first one; here that is an error, so a corrupt archive is not taken for a short one."""
    end_marker_required = True

    @classmethod
    def fromtarfile(cls, tf):
        try:
            return super().fromtarfile(tf)
        except tarfile.EOFHeaderError:  # a zero block: the end-of-archive marker
            raise
        except tarfile.EmptyHeaderError:
            if cls.end_marker_required:
                raise tarfile.ReadError("the tar data stops without its end-of-archive marker: the file is truncated") from None
            raise
        except tarfile.TruncatedHeaderError as err:
            raise tarfile.ReadError(f"the tar data ends inside a header ({err}): the file is truncated") from None
        except tarfile.InvalidHeaderError as err:
            raise tarfile.ReadError(f"a tar header is damaged ({err})") from None


class _CompressedTarInfo(_TarInfo):
    end_marker_required = False  # the compressor's own check already vouches for the stream's end


def _check_member(name: str, archive: Path, link_target: str | None = None) -> None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or name.startswith(("/", "\\")):
        raise DataError(f"Archive {archive} holds the unsafe path {name!r} (absolute or with '..'): refusing to extract it; get the archive from a trusted source.")
    if link_target is not None:
        resolved = os.path.normpath(os.path.join(str(path.parent), link_target))
        if os.path.isabs(link_target) or resolved == ".." or resolved.startswith("../"):
            raise DataError(f"Archive {archive} holds a link {name!r} -> {link_target!r} that escapes the target folder: refusing to extract it.")


def _check_tar_member(m: tarfile.TarInfo, archive: Path) -> None:
    if m.isdev() or m.isfifo():
        raise DataError(f"Archive {archive} holds a device or pipe {m.name!r}: refusing to extract it.")
    _check_member(m.name, archive, m.linkname if m.issym() else None)
    if m.islnk():
        _check_member(m.linkname, archive)


def _drain(f, chunk: int = 1 << 20) -> None:
    while f.read(chunk):
        pass


def _read_through(archive: Path, kind: str, into: Path | None = None) -> None:
    """Read all of ``archive`` (format ``kind``): every member's data and the compressed stream up to end
    of file, so that every check the format has is made; unpack it into ``into`` when given, checking each
    member's path first. Raises _Corrupt (what is wrong), DataError (an unsafe member) or OSError (the disk)."""
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                if into is None:
                    bad = zf.testzip()  # reads every member, checking its CRC-32
                    if bad is not None:
                        raise _Corrupt(f"its member {bad} fails its CRC-32 check")
                    return
                for info in zf.infolist():
                    _check_member(info.filename, archive)
                    if (info.external_attr >> 16) & 0o170000 == 0o120000:
                        raise DataError(f"Archive {archive} holds a symbolic link {info.filename!r}: refusing to extract it.")
                zf.extractall(into)  # each member is read to its end, which checks its CRC-32
            return
        if kind == "gzip":
            with open(archive, "rb") as f:
                problem = _gzip_header_problem(f.read(1 << 16))
            if problem:
                raise _Corrupt(problem)
        opener = {"gzip": gzip.open, "bzip2": bz2.open, "xz": lzma.open, "tar": open}[kind]
        tarinfo = _TarInfo if kind == "tar" else _CompressedTarInfo
        with opener(archive, "rb") as raw:
            with tarfile.open(fileobj=raw, mode="r|", tarinfo=tarinfo) as tf:
                if into is None:
                    for m in tf:
                        if m.isfile():
                            _drain(tf.extractfile(m))
                else:
                    def check(m, path):
                        _check_tar_member(m, archive)
                        return tarfile.data_filter(m, path)
                    tf.extractall(into, filter=check)
            _drain(raw)  # the rest of the stream to end of file: gzip checks CRC-32 and ISIZE there
    except DataError:
        raise
    except tarfile.FilterError as err:
        raise DataError(f"Archive {archive} holds a member that cannot be extracted safely ({err}): refusing to extract it.") from None
    except EOFError:  # "Compressed file ended before the end-of-stream marker was reached"
        raise _Corrupt(f"its {kind} stream ends early: the file is truncated") from None
    except (tarfile.TarError, zipfile.BadZipFile, zlib.error, lzma.LZMAError, NotImplementedError, ValueError) as err:
        raise _Corrupt(f"{kind}: {err}") from None
    except OSError as err:
        if err.errno is None:  # gzip.BadGzipFile, bz2's "Invalid data stream": the data, not the disk
            raise _Corrupt(f"{kind}: {err}") from None
        if err.errno in _STORAGE_ERRNOS:
            raise
        raise DataError(f"Archive {archive} cannot be unpacked into {into} ({err}): check its contents.") from None


def _discard(path: Path, also: Path | None = None) -> None:
    """Delete a failed archive (or download) and the checksum record of ``also`` (the archive's final name)."""
    for p in (path, (also or path).with_name((also or path).name + ".sha256")):
        p.unlink(missing_ok=True)


def _source(archive: Path, url: str | None) -> str:
    return f"The download of {archive} from {url}" if url else f"Archive {archive}"


def _problem(path: Path, archive: Path) -> tuple[str, str] | None:
    """(what is wrong with ``path`` as the archive ``archive``, what to do) as phrases, or None when it
    reads cleanly."""
    kind, what = sniff(path)
    if kind is None:
        expected = f"a {_suffix(archive)} archive" if expected_kind(archive) else "an archive"
        hint = ("the link may need a confirmation or a login, or have moved: open it in a browser and fix "
                "the dataset's url in the config if it moved" if "HTML" in what
                else "check the dataset's url in the config, or try again later")
        return f"is {what}, not {expected}", hint
    try:
        _read_through(path, kind)
    except _Corrupt as err:
        return f"is corrupt ({err})", "run again to download a fresh copy"
    return None


def verify(path: str | os.PathLike, archive: str | os.PathLike | None = None, url: str | None = None) -> None:
    """Check that ``path`` is an archive that reads cleanly to its end (see the module docstring).
    ``archive`` is the name it will have (for its expected format and the messages).

    Raises DataError (one sentence saying what was received or what is damaged) after deleting
    ``path`` and the checksum record of ``archive``.
    """
    path = Path(path)
    archive = Path(archive) if archive is not None else path
    problem = _problem(path, archive)
    if problem is not None:
        _discard(path, archive)
        wrong, hint = problem
        if wrong.startswith("is corrupt"):
            raise DataError(f"{_source(archive, url)} {wrong}; it was deleted: {hint}.")
        raise DataError(f"{_source(archive, url)} {wrong}: {hint}; it was deleted.")


def fetch(url: str, archive: str | os.PathLike, sha256: str | None = None, retries: int = 5,
          record: bool = True, check: bool | None = None, backoff: float = 1.0) -> str:
    """Make ``archive`` a verified copy of ``url`` and return its sha256.

    ``check`` (default: when the name ends in .tar.gz, .tgz, .tar.bz2, .tar.xz, .zip or .tar) also
    requires it to be such an archive that reads cleanly to its end (``verify``); a download that is
    not is deleted with one sentence saying what came. An existing ``archive`` is reused when it matches
    ``sha256`` (or when no checksum is pinned) and passes that check; one that fails it is deleted and
    downloaded again. Without a pinned checksum and with ``record``, the sha256 of the verified archive
    is recorded in ``ARCHIVE.sha256`` and logged. Raises DataError (checksum mismatch, not an archive,
    corrupt) or DownloadError (transfer failed).
    """
    archive = Path(archive)
    archive.parent.mkdir(parents=True, exist_ok=True)
    check = expected_kind(archive) is not None if check is None else check
    if archive.exists():
        digest = sha256_file(archive)
        if sha256 is None or digest == sha256:
            problem = _problem(archive, archive) if check else None
            if problem is None:
                log.info("reusing %s (sha256 %s)", archive, digest)
                return _record(archive, digest, sha256) if record else digest
            _discard(archive)
            if sha256 is not None:
                raise DataError(
                    f"{archive} matches the pinned sha256 {sha256} but {problem[0]}, so the pinned "
                    f"sha256 is that of a bad copy: remove it from the config and run again (the file was deleted).")
            log.warning("the kept %s %s; deleted it, downloading it again", archive, problem[0])
        else:
            log.warning("%s does not match the pinned sha256; downloading it again", archive)
            _discard(archive)
    part = archive.with_name(archive.name + ".part")
    file_id = gdrive_id(url)
    if file_id:
        import gdown  # only needed for Google Drive
        failures = tuple(getattr(gdown.exceptions, name) for name in ("FileURLRetrievalError", "DownloadError")
                         if hasattr(getattr(gdown, "exceptions", None), name)) + (requests.RequestException,)
        try:
            got = gdown.download(id=file_id, output=str(part), quiet=False, resume=True)
        except failures as err:
            got = None
            log.debug("gdown failed: %s", err)
        if got is None:
            raise DownloadError(f"Google Drive refused file {file_id} (quota, permissions or a moved file): try again later or download it by hand into {archive}.")
    else:
        http_download(direct_url(url), part, retries=retries, backoff=backoff)
    digest = sha256_file(part)
    if sha256 is not None and digest != sha256:
        kind, what = sniff(part)
        part.unlink()
        received = "" if kind else f" (it is {what})"
        raise DataError(
            f"Checksum mismatch for {archive} from {url}{received}: expected sha256 {sha256}, got {digest}; "
            f"the download was corrupt or the pinned sha256 is wrong: run again, or fix sha256 in the config.")
    if check:
        verify(part, archive, url)
    os.replace(part, archive)
    return _record(archive, digest, sha256) if record else digest


def _record(archive: Path, digest: str, pinned: str | None) -> str:
    if pinned is None:
        record = archive.with_name(archive.name + ".sha256")
        record.write_text(f"{digest}  {archive.name}\n")
        log.warning("no sha256 pinned for %s; computed %s (recorded in %s): pin it in the config", archive, digest, record)
    return digest


def _content_root(folder: Path) -> Path:
    """Strip single top folders (e.g. ``data/``) above the learn-to-cluster layout."""
    while True:
        entries = list(folder.iterdir())
        if len(entries) == 1 and entries[0].is_dir() and entries[0].name not in LAYOUT_DIRS:
            folder = entries[0]
        else:
            return folder


def extract(archive: str | os.PathLike, dest: str | os.PathLike, provides: list[str],
            md5: Mapping[str, str] | None = None, url: str | None = None) -> None:
    """Extract ``archive`` into ``dest`` safely and completely verified.

    Every path in ``provides`` and in ``md5`` (relative to dest) must be in it, and every file in ``md5``
    (path -> 32 hex digits) must have that md5. The archive is read to its end while it is unpacked into
    a temporary folder, so the compressor's CRC is checked; files are moved into place only when all
    checks pass. A corrupt archive, or one whose files fail their md5, is deleted with its ``.sha256``
    record so the next run downloads it again. Raises DataError (one sentence naming the archive or
    file, what is wrong and the fix); ``url`` only goes into the messages.
    """
    archive, dest = Path(archive), Path(dest)
    md5 = {rel: digest.lower() for rel, digest in (md5 or {}).items()}
    dest.mkdir(parents=True, exist_ok=True)
    kind, what = sniff(archive)
    if kind is None:
        _discard(archive)
        raise DataError(f"{_source(archive, url)} is {what}, not an archive, and was deleted: run again to download it afresh.")
    with tempfile.TemporaryDirectory(dir=dest, prefix=".extract-") as tmp:
        try:
            _read_through(archive, kind, Path(tmp))
        except _Corrupt as err:
            _discard(archive)
            raise DataError(f"{_source(archive, url)} is corrupt ({err}) and was deleted: run again to download a fresh copy.") from None
        root = _content_root(Path(tmp))
        files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink())
        have = set(files)
        missing = [p for p in dict.fromkeys([*provides, *md5]) if p not in have]
        if missing:
            raise DataError(
                f"Archive {archive} reads cleanly but does not contain {', '.join(missing)} (it holds "
                f"{', '.join(files[:10]) or 'nothing'}{' ...' if len(files) > 10 else ''}): fix the dataset's "
                f"'provides' (or 'md5') list in the config, or delete the archive if its url now serves another file.")
        wrong = [(rel, expected, md5_file(root / rel)) for rel, expected in md5.items()]
        wrong = [w for w in wrong if w[1] != w[2]]
        if wrong:
            rel, expected, actual = wrong[0]
            others = f" (and {len(wrong) - 1} more file(s))" if len(wrong) > 1 else ""
            _discard(archive)
            origin = f"{archive} (from {url})" if url else str(archive)
            raise DataError(
                f"{rel} extracted from {origin} has md5 {actual}, not the "
                f"published {expected}{others}: the archive is corrupt or not the published one, so it was deleted: "
                f"run again to download it afresh, or fix md5 in the config if the dataset was re-released.")
        if md5:
            log.info("md5 of %s match the published sums", ", ".join(md5))
        for rel in files:
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(root / rel), target)


def download(url: str, archive: str | os.PathLike, dest: str | os.PathLike, provides: list[str],
             sha256: str | None = None, md5: Mapping[str, str] | None = None, retries: int = 5) -> str:
    """``fetch`` then ``extract``; without a pinned sha256 the archive's sha256 is recorded (and logged
    with the advice to pin it) only after everything, md5 sums included, has passed. Returns the sha256."""
    digest = fetch(url, archive, sha256=sha256, retries=retries, record=False)
    extract(archive, dest, provides, md5=md5, url=url)
    return _record(Path(archive), digest, sha256)
