#!/usr/bin/env python
"""Download a dataset archive (HTTP(S) with resume, Google Drive, OneDrive), verify it, extract it safely."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

from ltc import cli  # noqa: E402
from ltc.download import extract, fetch  # noqa: E402


def main(args):
    fetch(args.url, args.archive, sha256=args.sha256, retries=args.retries)
    extract(args.archive, args.dest, args.provides)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--url", required=True)
    p.add_argument("--archive", required=True, help="where the downloaded archive is kept")
    p.add_argument("--sha256", help="expected checksum (recorded next to the archive when omitted)")
    p.add_argument("--dest", required=True, help="data folder the archive is extracted into")
    p.add_argument("--provides", nargs="*", default=[], help="files (relative to --dest) the archive must contain")
    p.add_argument("--retries", type=int, default=5)
    cli.run(main, p.parse_args())
