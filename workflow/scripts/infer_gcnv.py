#!/usr/bin/env python
"""Predict GCN-V vertex confidences (and the hidden GCN features) of a split.

Memory-bounded: the graph is taken block of rows by block of rows from the kNN file (only its reverse
edges stay in memory), and the hidden features are written out block by block; peak memory is the
normalised features (N x D float32) plus about 8 bytes per kNN edge.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import logging  # noqa: E402

import ltc  # noqa: E402,F401  (before torch: it sets MKL's reproducible mode)
import torch  # noqa: E402

from ltc import cli, gcn  # noqa: E402
from ltc.graph import SymmetricKnnGraph  # noqa: E402
from ltc.io import npy_row_writer, save_array  # noqa: E402

log = logging.getLogger("ltc")


def main(args):
    torch.set_num_threads(args.threads)
    model = gcn.load_checkpoint(args.model, args.dim)
    # the graph first: building it briefly holds the directed graph and its transpose, not beside X
    graph = SymmetricKnnGraph(args.knn, args.th_sim, args.batch_size)
    log.info("graph: %d vertices, %d reverse edges (self-loops included)", graph.n, graph.reverse.nnz)
    x = gcn.read_normalized(args.features, args.dim, args.batch_size)
    if args.gcn_features:
        with npy_row_writer(args.gcn_features, (len(x), model.conv1.weight.shape[1])) as hidden:
            conf = gcn.predict_graph(model, x, graph, hidden, batch_size=args.batch_size, device_name=args.device)
    else:  # no hidden features asked for: none are written
        conf = gcn.predict_graph(model, x, graph, batch_size=args.batch_size, device_name=args.device)
    log.info("confidence: mean %.4f, min %.4f, max %.4f", conf.mean(), conf.min(), conf.max())
    save_array(args.confidence, conf)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--model", required=True, help="GCN-V checkpoint (ours or the original project's)")
    p.add_argument("--features", required=True)
    p.add_argument("--dim", type=int, required=True)
    p.add_argument("--knn", required=True, help="kNN .npz of the same split")
    cli.setting_option(p, "--th-sim", gcn.DEFAULTS, "th_sim")  # methods.gcnv
    cli.setting_option(p, "--device", gcn.DEFAULTS, "train.device")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=65536, help="rows per block of the graph and of the model")
    p.add_argument("--confidence", required=True, help="confidences (.npy, N) to write")
    p.add_argument("--gcn-features", help="hidden features (.npy, N x nhid) to write (default: none)")
    cli.run(main, p.parse_args())
