"""Blackboxes: tabulated or computed learning curves the simulator replays."""

from hpo_core.blackboxes.base import Blackbox, Curve

__all__ = ["Blackbox", "Curve"]
