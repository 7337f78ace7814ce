#!/usr/bin/env python
"""L-GCN links of a split: every point as a pivot, the probability that each of its hop-1 kNN neighbours
shares its identity (ltc.lgcn.links), written as peer and prob (N x k0)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import ltc  # noqa: E402,F401  (before torch: it sets MKL's reproducible mode)
import json  # noqa: E402

import torch  # noqa: E402

from ltc import DataError, cli, lgcn  # noqa: E402
from ltc.io import feature_shape, knn_shape, load_knn, read_features  # noqa: E402


def main(args):
    torch.set_num_threads(args.threads)
    model = lgcn.load_checkpoint(args.model, args.dim)  # before the data is read
    hops = json.loads(args.k_at_hop)
    limit = None if args.max_cpu_nodes in (None, "None", "null") else int(args.max_cpu_nodes)
    n = feature_shape(args.features, args.dim)[0]
    lgcn.check_cost(n, hops, lgcn.device(args.device), limit, knn_shape(args.knn)[1])  # before anything big is read
    ids, _ = load_knn(args.knn)
    feats = read_features(args.features, args.dim)
    if len(ids) != len(feats):
        raise DataError(f"kNN file {args.knn} has {len(ids)} rows but {args.features} has {len(feats)}: both must "
                        f"come from the same split (delete the kNN file so it is rebuilt).")
    peer, prob = lgcn.links(model, feats, ids, hops, args.active_connection, device_name=args.device,
                            max_cpu_nodes=limit)
    lgcn.save_links(args.out, peer, prob)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--model", required=True, help="L-GCN checkpoint (ours or the original project's .pth)")
    p.add_argument("--features", required=True, help="features of the split (.bin or .npy)")
    p.add_argument("--dim", type=int, required=True, help="feature width")
    p.add_argument("--knn", required=True, help="kNN .npz of the same split")
    p.add_argument("--k-at-hop", default=json.dumps(lgcn.DEFAULTS.k_at_hop), help="[hop 1, hop 2] counts, as JSON")
    cli.setting_option(p, "--active-connection", lgcn.DEFAULTS, "active_connection")
    cli.setting_option(p, "--device", lgcn.DEFAULTS, "train.device")
    p.add_argument("--max-cpu-nodes", default=lgcn.DEFAULTS.max_cpu_nodes, help="subgraph nodes at most on the CPU "
                   "(null: no limit)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="links (.npz: peer, prob) to write")
    cli.run(main, p.parse_args())
