#!/usr/bin/env python
"""Download a dataset or model archive (HTTP(S) with resume, Google Drive, OneDrive), verify it, extract
it safely; or, with --single, a link that serves one file itself (a pretrained model's .pth).

The archive must be an archive that reads cleanly to its end (compressor CRCs included), match --sha256
when given, and its extracted files must match their --md5 sums; one that does not is deleted (so the next
run downloads it again) and no checksum of it is recorded. A single file must be non-empty, no HTML page
and no archive, and match --sha256 and its --md5 when given (ltc.download.fetch_file).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

from ltc import DataError, cli  # noqa: E402
from ltc.download import download, fetch_file  # noqa: E402


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
    sums = md5_sums(args.md5)
    if not args.single:
        download(args.url, args.archive, args.dest, args.provides, sha256=args.sha256, md5=sums, retries=args.retries)
        return
    if len(args.provides) != 1 or set(sums) - set(args.provides):
        raise DataError(f"--single saves one file: give it as the one --provides (got {len(args.provides)}) and "
                        f"only its --md5: fix the entry's 'provides' and 'md5' in the config.")
    (rel,) = args.provides
    fetch_file(args.url, Path(args.dest) / rel, sha256=args.sha256, md5=sums.get(rel), retries=args.retries)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--url", required=True)
    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--archive", help="where the downloaded archive is kept")
    kind.add_argument("--single", action="store_true",
                      help="the link serves one file itself, saved as --dest/<the one --provides>")
    p.add_argument("--sha256", help="expected checksum (recorded next to the archive when omitted)")
    p.add_argument("--dest", required=True, help="data folder the archive is extracted into")
    p.add_argument("--provides", nargs="*", default=[], help="files (relative to --dest) the archive must contain")
    p.add_argument("--md5", nargs="*", default=[], metavar="PATH=HEX",
                   help="published md5 sums of extracted files (PATH relative to --dest), checked before they are moved into place")
    p.add_argument("--retries", type=int, default=5)
    cli.run(main, p.parse_args())
