"""The clustering methods. Each module ``ltc/methods/<name>.py`` states one method's contract once (its
``Params`` and ``METHOD``; :mod:`ltc.methods.registry` says what the contract is and lists the methods):

* ``knn_cc``: kNN threshold + connected components (its own rules, ``method_knn_cc.smk``);
* ``gcnv``, ``gcne``: GCN-V and GCN-E, whose models live in :mod:`ltc.gcn` / :mod:`ltc.confidence`
  and :mod:`ltc.gcne` and run as stages of their own rules (``method_gcnv.smk``, ``method_gcne.smk``);
* the original learn-to-cluster baselines and Infomap, run by the generic rules of
  ``method_baselines.smk`` (:mod:`ltc.methods.common` holds their helpers): ``kmeans``,
  ``mini_batch_kmeans``, ``fast_hac``, ``dbscan``, ``knn_dbscan``, ``hdbscan``, ``meanshift``,
  ``spectral``, ``aro`` (approximate rank-order), ``chinese_whispers``, ``infomap``, ``cdp`` (CDP,
  single model).
"""
