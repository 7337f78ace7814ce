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

A link that serves one file itself, not an archive (:func:`fetch_file`: a pretrained model's ``.pth``)
goes the same way through ``FILE.part`` and must be non-empty, not an HTML or XML page, not an archive
(a gzip, bzip2, xz or tar file, or a zip that is not a torch checkpoint) and match its ``md5`` and
``sha256`` when given.

The model zoo (config ``models``; :func:`zoo_entries`, :func:`zoo`, :func:`zoo_checkpoint`): the
original project's pretrained models, one entry per download link, each providing one or more model
files under ``<data_dir>/pretrained_models/``; a method's ``checkpoint`` setting names one as
``zoo:NAME``, NAME being the file's name without its ``.pth`` / ``.pth.tar`` / ``.pt`` ending.
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
from dataclasses import dataclass
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

#: the first bytes of a torch checkpoint in torch's legacy (pre-1.6) format: pickle protocol 2, then its magic number
_TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"

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
                    raise DownloadError(f"{url} answered HTTP {resp.status_code}: check its url in the config.")
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
    if head.startswith(_TORCH_LEGACY_MAGIC):
        return None, "a torch checkpoint (torch's legacy format)"
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


def is_torch_zip(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a zip in torch's checkpoint format (torch >= 1.6 ``torch.save``: members
    ``<name>/data.pkl``, ``<name>/data/0``, ...), a single model file rather than an archive of files."""
    try:
        with zipfile.ZipFile(path) as zf:
            return any(PurePosixPath(name).name == "data.pkl" for name in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


#: the hint for an entry whose link serves one file where an archive is expected
_SERVES_FILE_HINT = ("its link serves a single torch checkpoint, not an archive: if that is the model, set "
                     "'serves: file' in its entry of the config (with that one file in 'provides')")


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


_HTML_HINT = ("the link may need a confirmation or a login, or have moved: open it in a browser and fix its url "
              "in the config if it moved")


def _problem(path: Path, archive: Path) -> tuple[str, str] | None:
    """(what is wrong with ``path`` as the archive ``archive``, what to do) as phrases, or None when it
    reads cleanly."""
    kind, what = sniff(path)
    if kind is None:
        expected = f"a {_suffix(archive)} archive" if expected_kind(archive) else "an archive"
        hint = (_HTML_HINT if "HTML" in what else _SERVES_FILE_HINT if "torch" in what
                else "check its url in the config, or try again later")
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
    _refuse_if(_problem(path, archive), path, archive, url)


def _refuse_if(problem: tuple[str, str] | None, path: Path, target: Path, url: str | None) -> None:
    """Delete ``path`` (and the checksum record of ``target``, its final name) and raise DataError in one
    sentence when ``problem`` (what is wrong, what to do) is not None."""
    if problem is None:
        return
    _discard(path, target)
    wrong, hint = problem
    if wrong.startswith("is corrupt"):
        raise DataError(f"{_source(target, url)} {wrong}; it was deleted: {hint}.")
    raise DataError(f"{_source(target, url)} {wrong}: {hint}; it was deleted.")


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
    check = expected_kind(archive) is not None if check is None else check
    return _fetch(url, archive, sha256, retries, record, (lambda path: _problem(path, archive)) if check else None,
                  backoff)


def fetch_file(url: str, target: str | os.PathLike, sha256: str | None = None, md5: str | None = None,
               retries: int = 5, record: bool = True, backoff: float = 1.0) -> str:
    """Make ``target`` a verified copy of ``url``, a link that serves one file itself (not an archive:
    e.g. a model's ``.pth``), and return its sha256.

    The download (``TARGET.part``, resumed across runs) is refused, deleted and reported in one sentence
    when it is empty, an HTML or XML page (a login, quota or moved-file page), an archive (a gzip, bzip2,
    xz or tar file, or a zip other than a torch checkpoint: the link serves an archive, so its config
    entry should say so), or when it does not match ``md5`` (32 hex digits, the published sum) or
    ``sha256``; only a file that passes is renamed to ``target``. An existing ``target`` is reused as
    in :func:`fetch`; ``record`` as there. Raises DataError or DownloadError (transfer failed).
    """
    target = Path(target)
    return _fetch(url, target, sha256, retries, record, lambda path: _file_problem(path, md5), backoff)


def _file_problem(path: Path, md5: str | None) -> tuple[str, str] | None:
    """(what is wrong with ``path`` as a single downloaded file, what to do) as phrases, or None."""
    kind, what = sniff(path)
    if kind is None and ("HTML" in what or "XML" in what or what == "an empty file"):
        return f"is {what}, not the file", _HTML_HINT if "HTML" in what else "check its url in the config, or try again later"
    if kind in ("gzip", "bzip2", "xz", "tar") or (kind == "zip" and not is_torch_zip(path)):
        return (f"is {what}, not a single file", "if its link serves an archive, set 'serves: archive' in its "
                                                   "entry of the config and list the files it holds in 'provides'")
    actual = md5_file(path) if md5 else None
    if md5 and actual != md5.lower():
        return (f"has md5 {actual}, not the published {md5.lower()}",
                "run again to download it afresh, or fix md5 in the config if the file was re-released")
    return None


def _fetch(url: str, archive: Path, sha256: str | None, retries: int, record: bool, problem_of, backoff: float) -> str:
    """:func:`fetch` with ``problem_of(path)`` -> (what is wrong, what to do) or None, the check of a
    download (None: none beyond ``sha256``)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    if archive.exists():
        digest = sha256_file(archive)
        if sha256 is None or digest == sha256:
            problem = problem_of(archive) if problem_of else None
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
    if problem_of:
        _refuse_if(problem_of(part), part, archive, url)
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
        if missing and kind == "zip" and is_torch_zip(archive):
            raise DataError(f"Archive {archive} does not contain {', '.join(missing)}: {_SERVES_FILE_HINT}.")
        if missing:
            raise DataError(
                f"Archive {archive} reads cleanly but does not contain {', '.join(missing)} (it holds "
                f"{', '.join(files[:10]) or 'nothing'}{' ...' if len(files) > 10 else ''}): fix the "
                f"'provides' (or 'md5') list of its entry in the config, or delete the archive if its url now serves another file.")
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
    """``fetch`` (checked as an archive whatever its name) then ``extract``; without a pinned sha256 the
    archive's sha256 is recorded (and logged with the advice to pin it) only after everything, md5 sums
    included, has passed. Returns the sha256."""
    digest = fetch(url, archive, sha256=sha256, retries=retries, record=False, check=True)
    extract(archive, dest, provides, md5=md5, url=url)
    return _record(Path(archive), digest, sha256)


# --- the model zoo (config `models`) ------------------------------------------------------------------

#: the zoo's folder under the top-level data_dir (the original project's data/pretrained_models/)
MODELS_FOLDER = "pretrained_models"

#: endings cut off a model file's name to give its zoo name, longest first
MODEL_SUFFIXES = (".pth.tar", ".pth", ".pt")

#: how a `checkpoint` setting names a zoo model
ZOO_PREFIX = "zoo:"


@dataclass(frozen=True)
class ZooEntry:
    """One download of the zoo (config ``models.<name>``): a link serving an archive of model files
    (``single`` False, kept as ``archive``) or one model file itself (``single`` True, no archive).
    ``provides`` are paths relative to ``folder``; ``md5`` maps some of them to 32 hex digits."""
    name: str
    url: str
    single: bool
    folder: str
    archive: str | None
    provides: tuple[str, ...]
    sha256: str | None
    md5: dict

    @property
    def outputs(self) -> list[str]:
        """The model files it makes, ``<folder>/<provides>``."""
        return [f"{self.folder}/{rel}" for rel in self.provides]


def model_name(rel: str) -> str:
    """The zoo name of a model file: its file name without ``.pth.tar``, ``.pth`` or ``.pt``."""
    base = PurePosixPath(rel).name
    return next((base[:-len(s)] for s in MODEL_SUFFIXES if base.endswith(s) and len(base) > len(s)), base)


def zoo_entries(models: Mapping | None, data_dir: str) -> list[ZooEntry]:
    """The zoo's downloads, from config ``models`` (entry name -> ``url``, ``serves`` (``archive``, the
    default, or ``file``), ``file`` (the archive's name under ``<folder>/archives/``, default
    ``<entry>.archive``), ``provides``, ``sha256``, ``md5``), into ``<data_dir>/pretrained_models``.

    Raises DataError (one sentence naming the entry) for a ``provides`` path outside the folder, an
    entry serving one file that lists several or names an archive ``file``, an ``md5`` for a file it
    does not provide, or a model name that two files share."""
    folder = f"{str(data_dir).rstrip('/')}/{MODELS_FOLDER}"
    entries, seen = [], {}
    for name, spec in (models or {}).items():
        where = f"models.{name}"
        single = spec.get("serves", "archive") == "file"
        provides = tuple(spec["provides"])
        for rel in provides:
            parts = rel.replace("\\", "/").split("/")
            if not rel or os.path.isabs(rel) or rel.startswith("~") or ".." in parts or parts[0] == "archives":
                raise DataError(f"{where}.provides lists {rel!r}, which is not a path inside {folder}: list the model "
                                f"files relative to it, like pretrained_gcn_v_ms1m.pth.")
            other = seen.setdefault(model_name(rel), (where, rel))
            if other != (where, rel):
                raise DataError(f"{where}.provides lists {rel!r} and {other[0]}.provides lists {other[1]!r}, which "
                                f"share the zoo name '{model_name(rel)}': rename one of them.")
        if single and (len(provides) != 1 or spec.get("file")):
            raise DataError(f"{where} has 'serves: file' (its link serves one model file itself) but "
                            f"{'names an archive file' if spec.get('file') else f'provides {len(provides)} files'}: "
                            f"list that one file in 'provides' (where it is saved) and drop 'file'.")
        md5 = dict(spec.get("md5") or {})
        stray = sorted(set(md5) - set(provides))
        if single and stray:
            raise DataError(f"{where}.md5 names {', '.join(stray)}, which it does not provide: give the md5 of "
                            f"{provides[0]}.")
        archive = None if single else f"{folder}/archives/{spec.get('file') or name + '.archive'}"
        entries.append(ZooEntry(name, spec["url"], single, folder, archive, provides, spec.get("sha256"), md5))
    return entries


def zoo(models: Mapping | None, data_dir: str) -> dict[str, tuple[str, str]]:
    """Zoo name -> (the model file's path, the entry that downloads it); see :func:`zoo_entries`."""
    return {model_name(rel): (f"{e.folder}/{rel}", e.name) for e in zoo_entries(models, data_dir) for rel in e.provides}


def zoo_checkpoint(value, models: Mapping | None, data_dir: str, setting: str):
    """A ``checkpoint`` setting as a file: ``zoo:NAME`` -> the zoo model's path
    (``<data_dir>/pretrained_models/...``, which its entry's download rule makes), anything else as it is.
    Raises DataError (one sentence listing the zoo's names) for a NAME not in the zoo; ``setting`` is
    where the value was set, for that sentence."""
    if not isinstance(value, str) or not value.startswith(ZOO_PREFIX):
        return value
    name = value[len(ZOO_PREFIX):]
    models_of = zoo(models, data_dir)
    if name not in models_of:
        names = ", ".join(f"{ZOO_PREFIX}{n}" for n in models_of) or "none: the config has no 'models'"
        raise DataError(f"{setting} is {value!r}, which is not a model of the zoo (config 'models'): name one of "
                        f"{names}, or give the path of a checkpoint file.")
    return models_of[name][0]
