"""Metric key names (``keys``), the dynamic score and the static-input probes (``dynamic_score``)."""
