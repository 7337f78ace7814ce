"""Downloads from a loopback server: resume, checksums, safe extraction, nothing half-written, and no
corrupt, truncated or non-archive download ever accepted, kept or given a recorded checksum."""
import hashlib
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from helpers import dataset_archive, make_tar, sha256
from ltc import DataError
from ltc.download import DownloadError, direct_url, download, extract, fetch, gdrive_id

PROVIDES = ["features/toy_train.bin", "labels/toy_train.meta", "features/toy_test.bin", "labels/toy_test.meta"]


def test_fetch_verifies_and_extracts(file_server, tmp_path):
    archive, members = dataset_archive()
    file_server.files["/toy.tar.gz"] = archive
    fetch(f"{file_server.url}/toy.tar.gz", tmp_path / "archives/toy.tar.gz", sha256=sha256(archive))
    extract(tmp_path / "archives/toy.tar.gz", tmp_path, PROVIDES)
    for rel in PROVIDES:  # the archive's top "data/" folder is stripped
        assert (tmp_path / rel).read_bytes() == members[f"data/{rel}"]
    assert not list(tmp_path.glob(".extract-*")) and not (tmp_path / "archives/toy.tar.gz.part").exists()


def test_resumes_a_cut_off_transfer(file_server, tmp_path):
    archive = os.urandom(3_000_000)
    file_server.files["/big.bin"] = archive
    file_server.cut_after["/big.bin"] = 1_000_000
    fetch(f"{file_server.url}/big.bin", tmp_path / "big.bin", sha256=sha256(archive))
    assert (tmp_path / "big.bin").read_bytes() == archive
    ranges = [r for _, r in file_server.requests]
    assert ranges[0] is None and ranges[1].startswith("bytes=") and 0 < int(ranges[1][6:-1]) <= 1_000_000


def test_resumes_a_partial_file_left_by_an_earlier_run(file_server, tmp_path):
    archive = os.urandom(500_000)
    file_server.files["/a.bin"] = archive
    (tmp_path / "a.bin.part").write_bytes(archive[:200_000])
    fetch(f"{file_server.url}/a.bin", tmp_path / "a.bin", sha256=sha256(archive))
    assert (tmp_path / "a.bin").read_bytes() == archive
    assert file_server.requests == [("/a.bin", "bytes=200000-")]


def test_checksum_mismatch_leaves_nothing(file_server, tmp_path):
    file_server.files["/a.bin"] = b"tampered"
    with pytest.raises(DataError, match="Checksum mismatch") as info:
        fetch(f"{file_server.url}/a.bin", tmp_path / "a.bin", sha256="0" * 64)
    assert str(tmp_path / "a.bin") in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_unpinned_checksum_is_recorded(file_server, tmp_path):
    file_server.files["/a.bin"] = b"payload"
    digest = fetch(f"{file_server.url}/a.bin", tmp_path / "a.bin")
    assert digest == sha256(b"payload")
    assert (tmp_path / "a.bin.sha256").read_text().split()[0] == digest


def test_http_error_is_one_sentence(file_server, tmp_path):
    with pytest.raises(DownloadError, match="answered HTTP 404"):
        fetch(f"{file_server.url}/missing.tar.gz", tmp_path / "x.tar.gz")


def test_corrupt_archive(tmp_path):
    archive, _ = dataset_archive()
    (tmp_path / "bad.tar.gz").write_bytes(archive[: len(archive) // 2])
    with pytest.raises(DataError, match="is corrupt"):
        extract(tmp_path / "bad.tar.gz", tmp_path / "data", PROVIDES)
    assert list((tmp_path / "data").iterdir()) == []


@pytest.mark.parametrize("members,links", [
    ({"../evil.bin": b"x", "features/a.bin": b"y"}, ()),
    ({"/etc/evil.bin": b"x"}, ()),
    ({"features/a.bin": b"y"}, [("features/link", "../../outside", "sym")]),
    ({"features/a.bin": b"y"}, [("features/link", "/etc/passwd", "sym")]),
    ({"features/a.bin": b"y"}, [("features/hard", "../outside", "hard")]),
])
def test_refuses_unsafe_archives(tmp_path, members, links):
    (tmp_path / "evil.tar").write_bytes(make_tar(members, mode="w", links=links))
    with pytest.raises(DataError, match="refusing to extract"):
        extract(tmp_path / "evil.tar", tmp_path / "data", ["features/a.bin"])
    assert list((tmp_path / "data").iterdir()) == []
    assert not (tmp_path / "evil.bin").exists()


def test_archive_missing_an_expected_file(tmp_path):
    archive, _ = dataset_archive(names=("toy_train",))
    (tmp_path / "a.tar.gz").write_bytes(archive)
    with pytest.raises(DataError, match="does not contain features/toy_test.bin"):
        extract(tmp_path / "a.tar.gz", tmp_path / "data", PROVIDES)
    assert list((tmp_path / "data").iterdir()) == []


def test_link_forms():
    assert gdrive_id("https://drive.google.com/uc?id=14qS_IH-8Qt01nat4wbrY2X73h7dJv5-K") == "14qS_IH-8Qt01nat4wbrY2X73h7dJv5-K"
    assert gdrive_id("https://drive.google.com/file/d/10boLBiYq/view?usp=sharing") == "10boLBiYq"
    assert gdrive_id("gdrive:abc") == "abc"
    assert gdrive_id("http://127.0.0.1/uc?id=x") is None
    assert direct_url("https://x.sharepoint.com/:u:/g/p/ES_c?e=qM").endswith("?e=qM&download=1")
    assert direct_url("http://127.0.0.1:8000/a.tar.gz") == "http://127.0.0.1:8000/a.tar.gz"


# --- a corrupted, truncated or non-archive download is never accepted (issue 10) ---

REPO = Path(__file__).resolve().parents[1]


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def leftovers(folder: Path) -> list[str]:
    """Every file under ``folder`` (empty folders do not count)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def outcome(file_server, folder: Path, name: str, data: bytes, members: dict, provides=PROVIDES, **kw) -> str:
    """Serve ``data`` and download it into ``folder``: 'refused' (one sentence, nothing left behind),
    'identical' (accepted, every file byte-equal to ``members``) or 'WRONG ...' (accepted with other bytes)."""
    file_server.files[f"/{name}"] = data
    try:
        download(f"{file_server.url}/{name}", folder / "archives" / name, folder, provides, **kw)
    except DataError as err:
        message = str(err)
        assert "\n" not in message and message.endswith(".") and str(folder / "archives" / name) in message
        assert "provides" not in message, message  # corruption is not reported as a config problem
        assert leftovers(folder) == [], (message, leftovers(folder))  # nothing moved, archive and record deleted
        return "refused"
    for rel in provides:
        if (folder / rel).read_bytes() != members[f"data/{rel}"]:
            return f"WRONG {rel}"
    return "identical"


def flipped(data: bytes, pos: int, bit: int) -> bytes:
    out = bytearray(data)
    out[pos] ^= 1 << bit
    return bytes(out)


def test_single_bit_flips_in_a_tar_gz_are_refused(file_server, tmp_path):
    archive, members = dataset_archive()
    n = len(archive)
    assert archive[:2] == b"\x1f\x8b" and archive[3] == 0  # a 10-byte gzip header without optional fields
    header = [(pos, pos % 8) for pos in (0, 1, 2, 4, 5, 6, 7, 8, 9)] + [(3, bit) for bit in range(8)]
    body = [(int(pos), int(pos) % 8) for pos in np.linspace(10, n - 9, 33).round()]
    trailer = [(pos, (pos * 3) % 8) for pos in range(n - 8, n)]  # CRC-32 and ISIZE
    results = {}
    for i, (pos, bit) in enumerate(header + body + trailer):
        results[pos, bit] = outcome(file_server, tmp_path / f"run{i}", f"toy{i}.tar.gz", flipped(archive, pos, bit), members)
    # the gzip header's MTIME, XFL and OS bytes and its FTEXT flag are covered by no check and change nothing
    # that is extracted: accepted, with identical files (the documented choice); every other header bit counts
    harmless = {(pos, pos % 8) for pos in range(4, 10)} | {(3, 0)}
    assert {k for k, v in results.items() if v != "refused"} & set(header) == harmless
    assert all(results[k] == "identical" for k in harmless)
    assert all(results[k] == "refused" for k in trailer)
    # a flip in the deflate data is refused unless it hits a bit deflate never reads (files identical)
    assert not [v for v in results.values() if v.startswith("WRONG")]
    assert sum(results[k] == "refused" for k in body) >= len(body) - 2


@pytest.mark.parametrize("mode", ["w:bz2", "w:xz"])
def test_single_bit_flips_in_bz2_and_xz_are_refused(file_server, tmp_path, mode):
    rng = np.random.default_rng(1)
    members = {f"data/{rel}": rng.standard_normal(64).astype(np.float32).tobytes() for rel in PROVIDES}
    archive = make_tar(members, mode=mode)
    suffix = mode[2:]
    results = [outcome(file_server, tmp_path / f"run{i}", f"toy{i}.tar.{suffix}", flipped(archive, int(pos), i % 8), members)
               for i, pos in enumerate(np.linspace(10, len(archive) - 2, 12).round())]
    assert results == ["refused"] * len(results)


def test_refused_download_is_fetched_again_on_the_next_run(file_server, tmp_path):
    archive, members = dataset_archive()
    assert outcome(file_server, tmp_path, "toy.tar.gz", flipped(archive, len(archive) // 2, 3), members) == "refused"
    file_server.requests.clear()
    assert outcome(file_server, tmp_path, "toy.tar.gz", archive, members) == "identical"
    assert file_server.requests == [("/toy.tar.gz", None)]  # a whole new transfer, nothing reused
    assert (tmp_path / "archives/toy.tar.gz.sha256").read_text().split()[0] == sha256(archive)


@pytest.mark.parametrize("start", [0.2, 0.5, 0.8])
def test_64_corrupted_bytes_are_reported_as_corruption(file_server, tmp_path, start):
    archive, members = dataset_archive(n=300)
    pos = int(len(archive) * start)
    bad = archive[:pos] + bytes(np.random.default_rng(0).integers(0, 256, 64, dtype=np.uint8)) + archive[pos + 64:]
    assert outcome(file_server, tmp_path, "toy.tar.gz", bad, members) == "refused"
    file_server.files["/again.tar.gz"] = bad
    with pytest.raises(DataError, match="is corrupt .* was deleted: run again"):
        download(f"{file_server.url}/again.tar.gz", tmp_path / "archives/again.tar.gz", tmp_path, PROVIDES)


GDRIVE_PAGE = (b"<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head><body>"
               b"Google Drive can't scan this file for viruses.<form action='uc?export=download&confirm=t'>"
               b"</form></body></html>")


@pytest.mark.parametrize("body,said", [
    (GDRIVE_PAGE, "is an HTML page, not a .tar.gz archive: the link may need a confirmation or a login, or have moved"),
    (b"\n  <html><body>Sign in to your account</body></html>", "is an HTML page, not a .tar.gz archive"),
    (b"", "is an empty file, not a .tar.gz archive"),
    (b"Quota exceeded for this file\n", "is a text file starting 'Quota exceeded for this file', not a .tar.gz archive"),
    (bytes(range(256)) * 4, "is 1024 bytes of unrecognised data (starting 0001020304050607), not a .tar.gz archive"),
], ids=["gdrive-virus-scan-page", "login-page", "empty", "text", "binary"])
def test_a_download_that_is_no_archive_is_refused_and_deleted(file_server, tmp_path, body, said):
    file_server.files["/toy.tar.gz"] = body
    with pytest.raises(DataError) as info:
        fetch(f"{file_server.url}/toy.tar.gz", tmp_path / "toy.tar.gz")
    message = str(info.value)
    assert said in message and f"{file_server.url}/toy.tar.gz" in message and message.endswith("it was deleted.")
    assert leftovers(tmp_path) == []  # no archive, no .part, no .sha256


def test_a_pinned_checksum_mismatch_says_what_came(file_server, tmp_path):
    file_server.files["/toy.tar.gz"] = GDRIVE_PAGE
    with pytest.raises(DataError, match=r"Checksum mismatch for .* \(it is an HTML page\): expected sha256 0{64}"):
        fetch(f"{file_server.url}/toy.tar.gz", tmp_path / "toy.tar.gz", sha256="0" * 64)
    assert leftovers(tmp_path) == []


def test_truncated_download_without_content_length_is_refused(file_server, tmp_path):
    archive, members = dataset_archive(n=300)
    file_server.no_length.add("/toy.tar.gz")  # the connection's close ends the body: a cut looks complete
    assert outcome(file_server, tmp_path, "toy.tar.gz", archive[: len(archive) * 2 // 3], members) == "refused"
    with pytest.raises(DataError, match=r"is corrupt \(its gzip stream ends early: the file is truncated\)"):
        fetch(f"{file_server.url}/toy.tar.gz", tmp_path / "archives/toy.tar.gz")
    assert leftovers(tmp_path) == []
    file_server.files["/toy.tar.gz"] = archive  # the whole file without a length is fine
    assert outcome(file_server, tmp_path, "toy.tar.gz", archive, members) == "identical"


def test_server_without_range_support_starts_over(file_server, tmp_path):
    archive, members = dataset_archive(n=5000)
    file_server.no_range.add("/toy.tar.gz")
    file_server.cut_after["/toy.tar.gz"] = len(archive) // 3
    file_server.files["/toy.tar.gz"] = archive
    fetch(f"{file_server.url}/toy.tar.gz", tmp_path / "toy.tar.gz", backoff=0)
    assert (tmp_path / "toy.tar.gz").read_bytes() == archive


def test_server_without_range_support_that_keeps_cutting_leaves_nothing(file_server, tmp_path):
    archive, _ = dataset_archive(n=5000)
    file_server.no_range.add("/toy.tar.gz")
    file_server.cut_always["/toy.tar.gz"] = len(archive) // 3
    file_server.files["/toy.tar.gz"] = archive
    with pytest.raises(DownloadError, match="does not resume transfers, so the partial file was deleted: run again"):
        fetch(f"{file_server.url}/toy.tar.gz", tmp_path / "toy.tar.gz", retries=2, backoff=0)
    assert leftovers(tmp_path) == []


def test_partial_file_longer_than_the_servers_is_dropped(file_server, tmp_path):
    archive, _ = dataset_archive()
    file_server.files["/toy.tar.gz"] = archive
    (tmp_path / "toy.tar.gz.part").write_bytes(archive + b"stale bytes from another version")
    fetch(f"{file_server.url}/toy.tar.gz", tmp_path / "toy.tar.gz")
    assert (tmp_path / "toy.tar.gz").read_bytes() == archive
    assert [r for _, r in file_server.requests] == [f"bytes={len(archive) + 32}-", None]


def test_a_kept_corrupt_archive_is_downloaded_again(file_server, tmp_path):
    """What an earlier version left behind: a truncated archive and the record of its checksum."""
    archive, members = dataset_archive()
    kept = tmp_path / "archives/toy.tar.gz"
    kept.parent.mkdir()
    kept.write_bytes(archive[:-100])
    kept.with_name("toy.tar.gz.sha256").write_text(f"{sha256(archive[:-100])}  toy.tar.gz\n")
    assert outcome(file_server, tmp_path, "toy.tar.gz", archive, members) == "identical"
    assert file_server.requests == [("/toy.tar.gz", None)]
    assert kept.read_bytes() == archive
    assert kept.with_name("toy.tar.gz.sha256").read_text().split()[0] == sha256(archive)


def test_a_pinned_checksum_of_a_bad_copy_is_refused(file_server, tmp_path):
    archive, _ = dataset_archive()
    file_server.files["/toy.tar.gz"] = archive
    (tmp_path / "toy.tar.gz").write_bytes(archive[:-100])
    with pytest.raises(DataError, match="matches the pinned sha256 .* the pinned sha256 is that of a bad copy: remove it"):
        fetch(f"{file_server.url}/toy.tar.gz", tmp_path / "toy.tar.gz", sha256=sha256(archive[:-100]))
    assert leftovers(tmp_path) == [] and file_server.requests == []


def test_published_md5_sums_are_checked(file_server, tmp_path):
    archive, members = dataset_archive()
    sums = {rel: md5(members[f"data/{rel}"]) for rel in PROVIDES[:2]}
    assert outcome(file_server, tmp_path, "toy.tar.gz", archive, members, md5=sums) == "identical"


def test_an_md5_mismatch_is_refused_naming_the_file_and_both_sums(file_server, tmp_path):
    archive, members = dataset_archive()
    actual = md5(members["data/features/toy_train.bin"])
    expected = "0123456789abcdef" * 2
    file_server.files["/toy.tar.gz"] = archive
    with pytest.raises(DataError) as info:
        download(f"{file_server.url}/toy.tar.gz", tmp_path / "archives/toy.tar.gz", tmp_path, PROVIDES,
                 md5={"features/toy_train.bin": expected, "labels/toy_train.meta": md5(members["data/labels/toy_train.meta"])})
    message = str(info.value)
    assert message.startswith(f"features/toy_train.bin extracted from {tmp_path / 'archives/toy.tar.gz'}")
    assert f"has md5 {actual}, not the published {expected}" in message and "deleted" in message
    assert leftovers(tmp_path) == []  # nothing moved into place, archive deleted, no checksum recorded
    assert outcome(file_server, tmp_path, "toy.tar.gz", archive, members, md5={"features/toy_train.bin": actual}) == "identical"


def test_an_md5_for_a_file_the_archive_lacks(tmp_path):
    archive, _ = dataset_archive()
    (tmp_path / "a.tar.gz").write_bytes(archive)
    with pytest.raises(DataError, match="reads cleanly but does not contain features/other.bin"):
        extract(tmp_path / "a.tar.gz", tmp_path / "data", PROVIDES, md5={"features/other.bin": "0" * 32})
    assert leftovers(tmp_path / "data") == [] and (tmp_path / "a.tar.gz").exists()  # a config problem: archive kept


def test_plain_tar_with_a_damaged_header_is_corrupt_not_short(tmp_path):
    members = {"features/a.bin": b"x" * 700, "features/b.bin": b"y" * 10}
    tar = make_tar(members, mode="w")
    second = 512 + 1024  # header, then 700 bytes padded to 1024
    assert tar[second:second + 14] == b"features/b.bin"
    (tmp_path / "a.tar").write_bytes(flipped(tar, second + 3, 1))
    with pytest.raises(DataError, match=r"is corrupt \(tar: a tar header is damaged"):
        extract(tmp_path / "a.tar", tmp_path / "data", ["features/a.bin", "features/b.bin"])
    assert leftovers(tmp_path) == []


def test_plain_tar_cut_at_a_member_boundary_is_truncated(tmp_path):
    tar = make_tar({"features/a.bin": b"x" * 700, "features/b.bin": b"y" * 10}, mode="w")
    (tmp_path / "a.tar").write_bytes(tar[:1536])  # the first member whole, nothing after it
    with pytest.raises(DataError, match="end-of-archive marker: the file is truncated"):
        extract(tmp_path / "a.tar", tmp_path / "data", ["features/a.bin"])
    assert leftovers(tmp_path) == []


def zip_archive(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_archives_are_checked_against_their_crc(file_server, tmp_path):
    _, members = dataset_archive()
    good = zip_archive(members)
    assert outcome(file_server, tmp_path / "good", "toy.zip", good, members) == "identical"
    pos = good.index(members["data/features/toy_test.bin"]) + 17  # inside a stored member's data
    assert outcome(file_server, tmp_path / "bad", "toy.zip", flipped(good, pos, 5), members) == "refused"
    (tmp_path / "x.zip").write_bytes(flipped(good, pos, 5))
    with pytest.raises(DataError, match=r"is corrupt \(.*data/features/toy_test.bin"):
        extract(tmp_path / "x.zip", tmp_path / "data", PROVIDES)


def test_script_refuses_with_one_sentence_and_exit_1(file_server, tmp_path):
    archive, _ = dataset_archive()
    file_server.files["/toy.tar.gz"] = flipped(archive, len(archive) // 2, 0)
    script = REPO / "workflow/scripts/download.py"
    args = [sys.executable, str(script), "--url", f"{file_server.url}/toy.tar.gz", "--archive",
            str(tmp_path / "archives/toy.tar.gz"), "--dest", str(tmp_path), "--provides", *PROVIDES]
    proc = subprocess.run([*args, "--md5", "features/toy_train.bin=" + "0" * 32], capture_output=True, text=True)
    errors = [line for line in proc.stderr.splitlines() if " ERROR " in line]
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and len(errors) == 1
    assert "is corrupt (gzip" in errors[0] and "pin it" not in proc.stderr
    assert leftovers(tmp_path) == []
    proc = subprocess.run([*args, "--md5", "features/toy_train.bin=xyz"], capture_output=True, text=True)
    assert proc.returncode == 1 and "--md5 'features/toy_train.bin=xyz' is not PATH=HEX" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_download_rule_refuses_corrupt_archives_and_passes_md5(tmp_path, file_server):
    from helpers import snakemake, workdir
    wd = workdir(tmp_path)
    archive, members = dataset_archive()
    file_server.files["/bad.tar.gz"] = flipped(archive, len(archive) // 2, 6)
    file_server.files["/good.tar.gz"] = archive
    base = {"dim": 8, "train": {"name": "toy_train"}, "test": {"name": "toy_test"}}
    config = {"datasets": {
        "bad": {**base, "data_dir": "data/bad", "archives": {"data": {
            "url": f"{file_server.url}/bad.tar.gz", "file": "toy.tar.gz", "provides": PROVIDES}}},
        "wrongmd5": {**base, "data_dir": "data/wrongmd5", "archives": {"data": {
            "url": f"{file_server.url}/good.tar.gz", "file": "toy.tar.gz", "provides": PROVIDES,
            "md5": {"features/toy_test.bin": "f" * 32}}}},
        "ok": {**base, "data_dir": "data/ok", "archives": {"data": {
            "url": f"{file_server.url}/good.tar.gz", "file": "toy.tar.gz", "provides": PROVIDES,
            "md5": {"features/toy_test.bin": md5(members["data/features/toy_test.bin"])}}}}}}
    proc = snakemake(wd, "--keep-going", "download_bad_data", "download_wrongmd5_data", "download_ok_data",
                     config=config, check=False)
    assert proc.returncode != 0
    bad_log = (wd / "results/bad/logs/download_data.log").read_text()
    md5_log = (wd / "results/wrongmd5/logs/download_data.log").read_text()
    assert "is corrupt (gzip" in bad_log and "pin it" not in bad_log
    assert f"features/toy_test.bin extracted from data/wrongmd5/archives/toy.tar.gz (from {file_server.url}/good.tar.gz)" \
           f" has md5 {md5(members['data/features/toy_test.bin'])}, not the published {'f' * 32}" in md5_log
    assert leftovers(wd / "data/bad") == [] and leftovers(wd / "data/wrongmd5") == []
    assert (wd / "data/ok/features/toy_test.bin").read_bytes() == members["data/features/toy_test.bin"]
    assert (wd / "data/ok/archives/toy.tar.gz.sha256").exists()


def test_a_tar_gz_served_as_gzip_encoded_is_kept_as_served(file_server, tmp_path):
    archive, members = dataset_archive()
    file_server.gzip_encoded.add("/toy.tar.gz")
    assert outcome(file_server, tmp_path, "toy.tar.gz", archive, members) == "identical"
    assert (tmp_path / "archives/toy.tar.gz").read_bytes() == archive
