"""Experiment framework: benchmarks and methods registries, launcher, results and analysis."""
