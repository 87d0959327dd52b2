"""Test helpers that are real components, not mocks: a cheap, deterministic blackbox."""

from hpo_core.blackboxes.synthetic import SyntheticBlackbox, synthetic_config_space

__all__ = ["SyntheticBlackbox", "synthetic_config_space"]
