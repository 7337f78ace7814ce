"""Training-free clustering methods: each module exposes ``cluster(...) -> labels`` (one int per
point) and is driven by a rule file ``workflow/rules/method_<name>.smk``. The learned methods
live in ``ltc.gcn`` / ``ltc.confidence`` (GCN-V) and ``ltc.gcne`` (GCN-E).

* ``knn_cc``: kNN threshold + connected components (``method_knn_cc.smk``);
* the original learn-to-cluster baselines and Infomap (``method_baselines.smk``, one generic rule;
  :mod:`ltc.methods.baselines` is their common interface, :mod:`ltc.methods.common` their helpers):
  ``kmeans``, ``mini_batch_kmeans``, ``fast_hac``, ``dbscan``, ``knn_dbscan``, ``hdbscan``,
  ``meanshift``, ``spectral``, ``aro`` (approximate rank-order), ``chinese_whispers``, ``infomap``.
"""
