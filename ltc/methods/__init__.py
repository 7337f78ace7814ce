"""Training-free clustering methods: each module exposes ``cluster(...) -> labels`` (one int per
point) and is driven by its own rule file ``workflow/rules/method_<name>.smk``. The learned methods
live in ``ltc.gcn`` / ``ltc.confidence`` (GCN-V) and ``ltc.gcne`` (GCN-E)."""
