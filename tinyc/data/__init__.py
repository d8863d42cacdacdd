"""Data files tinyc reads at run time: cost_model.json, the latency cost model (bench/cost_model.py writes it)."""
