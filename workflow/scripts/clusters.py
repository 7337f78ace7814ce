#!/usr/bin/env python
"""Every test item's cluster as a table people can use, or folders of links to the images of each cluster.

Table (what rule `clusters` runs): results/<ds>/<method>/clusters.tsv and clusters.json, one row per item:
index, id (from the split's `ids` file), cluster (0 = the largest; equal sizes by first item), cluster_size,
confidence (where the method has one, e.g. GCN-V); rows by cluster, then index. By hand:

  python workflow/scripts/clusters.py --pred results/mine/infomap/pred_labels.meta --ids test_images.txt \\
      --tsv clusters.tsv --json clusters.json

Image folders, when the ids are image paths (symbolic links only: nothing is copied, and a folder that is
not empty is refused):

  python workflow/scripts/clusters.py results/mine/infomap/clusters.tsv --link-images by_cluster/ \\
      [--image-root DIR] [--min-size 2]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import argparse  # noqa: E402
import logging  # noqa: E402

from ltc import DataError, cli  # noqa: E402
from ltc.clusters import (cluster_table, link_images, load_item_confidence, read_ids, read_table,  # noqa: E402
                          write_json, write_table)
from ltc.io import read_labels  # noqa: E402

log = logging.getLogger("ltc.clusters")


def main(args):
    if args.link_images:
        if not args.table or args.pred:
            raise DataError("--link-images takes a clusters.tsv (the first argument) and no --pred: "
                            "python workflow/scripts/clusters.py results/<ds>/<method>/clusters.tsv --link-images DIR.")
        link_images(read_table(args.table), args.link_images, args.image_root, args.min_size, source=args.table)
        return
    if args.table or not args.pred or not (args.tsv or args.json):
        raise DataError("Give --pred and --tsv and/or --json to write a cluster table, or a clusters.tsv and "
                        "--link-images DIR to link its images.")
    labels = read_labels(args.pred)
    ids = read_ids(args.ids, len(labels), args.ids_setting or f"--ids {args.ids}") if args.ids else None
    confidence = load_item_confidence(args.confidence, len(labels)) if args.confidence else None
    table = cluster_table(labels, ids, confidence)
    meta = {k: v for k, v in (("dataset", args.dataset), ("method", args.method)) if v}
    if args.tsv:
        write_table(table, args.tsv)
    if args.json:
        write_json(table, args.json, meta)
    log.info("%d items in %d clusters (largest %d)%s%s", len(labels), table.n_clusters,
             int(table.cluster_size[0]) if len(labels) else 0, ", with ids" if ids is not None else "",
             ", with confidences" if confidence is not None else "")


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("table", nargs="?", help="a clusters.tsv whose image paths --link-images links")
    p.add_argument("--pred", help="predicted labels (.meta), one per test item")
    p.add_argument("--ids", help="the items' ids or image paths, one per line (the split's `ids` file)")
    p.add_argument("--ids-setting", help="the config key that names --ids, for messages")
    p.add_argument("--confidence", help="the items' confidences (.npy of N floats, e.g. GCN-V's confidence.npy)")
    p.add_argument("--dataset", help="dataset name, recorded in the JSON")
    p.add_argument("--method", help="method name, recorded in the JSON")
    p.add_argument("--tsv", help="write clusters.tsv here")
    p.add_argument("--json", help="write clusters.json here")
    p.add_argument("--link-images", metavar="OUT_DIR", help="make OUT_DIR (new or empty) with one folder of image "
                   "links per cluster")
    p.add_argument("--image-root", default=".", help="the folder relative image paths start from (default: here)")
    p.add_argument("--min-size", type=int, default=2, help="clusters with fewer items share the folder "
                   "'unclustered' (default 2: singletons)")
    cli.run(main, p.parse_args())
