"""Downloads from a loopback server: resume, checksums, safe extraction, nothing half-written."""
import os

import pytest

from conftest import dataset_archive, make_tar, sha256
from ltc import DataError
from ltc.download import DownloadError, direct_url, extract, fetch, gdrive_id

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
