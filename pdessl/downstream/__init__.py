"""Downstream evaluation: regression probes, supervised baselines, conditioned time-stepping."""
