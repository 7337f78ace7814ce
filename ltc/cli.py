"""Shared plumbing of the workflow's command-line scripts: logging and one-sentence errors."""
from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from ltc import DataError
from ltc.download import DownloadError


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--log", help="also write the log to this file")
    return p


def run(main: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> None:
    """Call ``main(args)`` with logging set up; bad input ends the process with its one-sentence message."""
    handlers = [logging.StreamHandler(sys.stderr)]
    if args.log:
        handlers.append(logging.FileHandler(args.log, mode="w"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=handlers)
    try:
        main(args)
    except (DataError, DownloadError) as err:
        logging.getLogger("ltc").error("%s", err)
        sys.exit(1)
