"""Clustering methods. Each module exposes ``cluster(...) -> labels`` (one int per point) and is
driven by its own rule file ``workflow/rules/method_<name>.smk``."""
