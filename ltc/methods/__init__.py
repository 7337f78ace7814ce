"""The clustering methods. Each module ``ltc/methods/<name>.py`` states one method's contract once (its
``Params`` and ``METHOD``; :mod:`ltc.methods.registry` says what the contract is and lists the methods):

* ``knn_cc``: kNN threshold + connected components (``method_knn_cc.smk``);
* the original learn-to-cluster baselines and Infomap (``method_baselines.smk``, one generic rule;
  :mod:`ltc.methods.baselines` is their common interface, :mod:`ltc.methods.common` their helpers):
  ``kmeans``, ``mini_batch_kmeans``, ``fast_hac``, ``dbscan``, ``knn_dbscan``, ``hdbscan``,
  ``meanshift``, ``spectral``, ``aro`` (approximate rank-order), ``chinese_whispers``, ``infomap``.
"""
