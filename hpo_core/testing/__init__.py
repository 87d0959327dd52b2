"""Test helpers that are real components, not mocks, for this project's tests and users' own.

* :class:`SyntheticBlackbox`, :func:`synthetic_config_space`: a cheap, deterministic blackbox.
* :mod:`hpo_core.testing.scheduler_contract`: the contract every method of
  :data:`hpo_core.experiments.methods.METHODS` honours, run in the simulator.
* :mod:`hpo_core.testing.searcher_contract`: the contract every searcher of
  :data:`hpo_core.searchers.SEARCHERS` honours.
* :mod:`hpo_core.testing.fast_options`: search options that make each searcher fast enough for
  such suites.

The contract modules are imported on their own (``from hpo_core.testing import
scheduler_contract``), so that importing this package stays light.
"""

from hpo_core.blackboxes.synthetic import SyntheticBlackbox, synthetic_config_space

__all__ = ["SyntheticBlackbox", "synthetic_config_space"]
