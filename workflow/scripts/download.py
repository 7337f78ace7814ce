#!/usr/bin/env python
"""Download a dataset archive (HTTP(S) with resume, Google Drive, OneDrive), verify it, extract it safely.

The archive must be an archive that reads cleanly to its end (compressor CRCs included), match --sha256
when given, and its extracted files must match their --md5 sums; one that does not is deleted (so the next
run downloads it again) and no checksum of it is recorded.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

from ltc import DataError, cli  # noqa: E402
from ltc.download import download  # noqa: E402


def md5_sums(pairs: list[str]) -> dict[str, str]:
    """``PATH=HEX`` arguments -> {PATH: hex}; raises DataError on a malformed one."""
    sums = {}
    for pair in pairs:
        rel, sep, digest = pair.rpartition("=")
        if not sep or not rel or len(digest) != 32 or any(c not in "0123456789abcdefABCDEF" for c in digest):
            raise DataError(f"--md5 {pair!r} is not PATH=HEX with 32 hex digits: fix the archive's md5 entry in the config.")
        sums[rel] = digest.lower()
    return sums


def main(args):
    download(args.url, args.archive, args.dest, args.provides, sha256=args.sha256, md5=md5_sums(args.md5),
             retries=args.retries)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--url", required=True)
    p.add_argument("--archive", required=True, help="where the downloaded archive is kept")
    p.add_argument("--sha256", help="expected checksum (recorded next to the archive when omitted)")
    p.add_argument("--dest", required=True, help="data folder the archive is extracted into")
    p.add_argument("--provides", nargs="*", default=[], help="files (relative to --dest) the archive must contain")
    p.add_argument("--md5", nargs="*", default=[], metavar="PATH=HEX",
                   help="published md5 sums of extracted files (PATH relative to --dest), checked before they are moved into place")
    p.add_argument("--retries", type=int, default=5)
    cli.run(main, p.parse_args())
