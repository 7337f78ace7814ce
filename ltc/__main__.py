"""``python -m ltc``: the ``ltc`` console command (:mod:`ltc.console`)."""
from ltc.console import main

main()
