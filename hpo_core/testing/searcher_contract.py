"""The contract every searcher of the registry honours.

A searcher is tested by being in :data:`hpo_core.searchers.SEARCHERS`: :func:`searcher_cases`
makes one :class:`SearcherCase` per name, created through
:func:`~hpo_core.searchers.make_searcher` with the searcher's fast search options
(:mod:`hpo_core.testing.fast_options`). The ``check_*`` functions each run one part of the
contract and raise ``AssertionError`` on a breach::

    @pytest.mark.parametrize("case", searcher_cases(), ids=str)
    def test_valid_suggestions(case):
        check_valid_suggestions(case)

Searchers are driven as schedulers drive them. One that overrides
:meth:`~hpo_core.searchers.Searcher.configure_resources` is multi-fidelity: it is told the rung
levels :data:`RUNG_LEVELS` and :data:`MAX_T` first, each new trial is registered pending towards
the first level, and results come at the levels a trial reaches (trials reach different levels,
as under ASHA), each continuation registered pending first. The others get one result per trial
at :data:`MAX_T`, as under FIFO. Suggestions are made in batches of :data:`BATCH` before their
results arrive, so model-based searchers see pending trials. Results are a deterministic
function of the config and the resource (:func:`objective`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpo_core import space as sp
from hpo_core.blackboxes.synthetic import synthetic_config_space
from hpo_core.searchers import SEARCHERS, Searcher, make_searcher
from hpo_core.testing.fast_options import fast_search_options

METRIC, MODE = "error", "min"
#: Rung levels below :data:`MAX_T` told to multi-fidelity searchers.
RUNG_LEVELS = (1, 3, 9)
#: The maximum resource.
MAX_T = 27
#: Trials suggested before their results arrive.
BATCH = 4


def contract_space() -> dict[str, Any]:
    """The mixed space of the contract (every kind of domain, and a constant)."""
    return synthetic_config_space(MAX_T)


def finite_space() -> dict[str, Any]:
    """A space of 8 configs (a categorical and an integer hyperparameter, and a constant)."""
    return {"optimizer": sp.choice(["sgd", "adam", "rmsprop", "nadam"]),
            "num_layers": sp.randint(1, 2), "epochs": MAX_T}


def objective(config: Mapping[str, Any], resource: int) -> float:
    """A deterministic metric value of ``config`` at ``resource``: a hash of the config in
    ``[0, 1)``, lowered towards larger resources."""
    text = json.dumps({k: config[k] for k in sorted(config)}, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "little") / 2**64 + 1.0 / resource


@dataclass(frozen=True)
class SearcherCase:
    """A registered searcher as the contract creates it.

    Attributes:
        name: Registry name (and test id).
        search_options: Passed to :func:`~hpo_core.searchers.make_searcher` (default: the
            fast ones).
    """

    name: str
    search_options: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name

    @property
    def multi_fidelity(self) -> bool:
        """Whether the searcher takes the rung levels (overrides ``configure_resources``)."""
        cls = SEARCHERS[self.name]
        return cls.configure_resources is not Searcher.configure_resources

    def make(
        self,
        config_space: Mapping[str, Any],
        *,
        seed: int = 0,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Searcher:
        """The searcher, by :func:`~hpo_core.searchers.make_searcher` with the case's search
        options updated by ``options``; a multi-fidelity one has been told the rung levels."""
        searcher = make_searcher(
            self.name, config_space, metric=METRIC, mode=MODE,
            rng=np.random.default_rng(seed), points_to_evaluate=points_to_evaluate,
            search_options={**self.search_options, **(options or {})},
        )
        if self.multi_fidelity:
            searcher.configure_resources(rung_levels=list(RUNG_LEVELS), max_t=MAX_T)
        return searcher

    def levels_reached(self, trial_id: int) -> list[int]:
        """The levels trial ``trial_id`` reports at: under a multi-fidelity scheduler, from the
        first rung level up to one that depends on the trial (ASHA-like), else :data:`MAX_T`."""
        if not self.multi_fidelity:
            return [MAX_T]
        levels = [*RUNG_LEVELS, MAX_T]
        return levels[:1 + trial_id % len(levels)]


def searcher_cases() -> list[SearcherCase]:
    """One case per name of :data:`~hpo_core.searchers.SEARCHERS`, with its fast options."""
    return [SearcherCase(name, fast_search_options(name)) for name in SEARCHERS]


def drive(
    case: SearcherCase, searcher: Searcher, num: int, *, start: int = 0
) -> list[dict[str, Any]]:
    """Up to ``num`` suggestions (trial ids from ``start``), in batches of :data:`BATCH`, each
    batch's results observed (see the module docstring) before the next; stops at ``None``."""
    configs: list[dict[str, Any]] = []
    trial_id = start
    while len(configs) < num:
        batch: dict[int, dict[str, Any]] = {}
        for _ in range(min(BATCH, num - len(configs))):
            config = searcher.suggest(trial_id)
            if config is None:
                break
            levels = case.levels_reached(trial_id)
            searcher.register_pending(trial_id, levels[0])
            batch[trial_id] = config
            configs.append(config)
            trial_id += 1
        for tid, config in batch.items():
            levels = case.levels_reached(tid)
            for i, level in enumerate(levels):
                searcher.observe(tid, config, level, objective(config, level))
                if i + 1 < len(levels):
                    searcher.register_pending(tid, levels[i + 1])
        if len(batch) < BATCH and len(configs) < num:
            break
    return configs


def _keys(space: Mapping[str, Any], configs: Sequence[Mapping[str, Any]]) -> list[Any]:
    return [sp.config_key(space, c) for c in configs]


def _assert_valid(space: Mapping[str, Any], config: Any) -> None:
    assert isinstance(config, dict), f"a suggestion must be a dict, got {config!r}"
    sp.validate_config(space, config)
    assert set(config) == set(space), (
        f"a suggestion must be a full config (constants too): {sorted(config)} vs {sorted(space)}"
    )


def _assert_distinct(space: Mapping[str, Any], configs: Sequence[Mapping[str, Any]]) -> None:
    keys = _keys(space, configs)
    twice = sorted({k for k in keys if keys.count(k) > 1}, key=str)
    assert not twice, f"configs suggested twice: {twice}"


def check_valid_suggestions(case: SearcherCase, *, num: int = 30) -> None:
    """``num`` suggestions on the mixed space are full, valid configs, none twice; and after
    them, :meth:`~hpo_core.searchers.Searcher.bracket_distribution` is ``None`` or
    probabilities, one per bracket."""
    space = contract_space()
    searcher = case.make(space)
    configs = drive(case, searcher, num)
    assert len(configs) == num, f"the searcher gave up after {len(configs)} configs"
    for config in configs:
        _assert_valid(space, config)
    _assert_distinct(space, configs)
    for num_brackets in (1, 2, 4):
        default = [1.0 / num_brackets] * num_brackets
        got = searcher.bracket_distribution(default)
        if got is not None:
            assert len(got) == num_brackets, got
            assert all(p >= 0 for p in got) and abs(sum(got) - 1.0) < 1e-9, got


def check_points_to_evaluate(case: SearcherCase) -> None:
    """The midpoint config comes first by default; given points (partial ones completed by the
    midpoint rule) come first, in order; ``[]`` turns the initial points off."""
    space = contract_space()
    midpoint = sp.midpoint_config(space)
    assert case.make(space).suggest(0) == midpoint

    other = sp.sample_config(space, np.random.default_rng(123))
    name, value = next((k, v) for k, v in other.items()
                       if isinstance(space[k], sp.Domain) and v != midpoint[k])
    full = sp.sample_config(space, np.random.default_rng(321))
    searcher = case.make(space, points_to_evaluate=[full, {name: value}])
    configs = drive(case, searcher, 3)
    assert configs[:2] == [full, sp.complete_config(space, {name: value})]
    _assert_distinct(space, configs)

    first = case.make(space, points_to_evaluate=[]).suggest(0)
    _assert_valid(space, first)
    assert first != midpoint, "with points_to_evaluate=[] the first config is the midpoint one"


def check_seeding(case: SearcherCase, *, num: int = 20) -> None:
    """The same rng seed gives the same ``num`` suggestions (results observed), another seed
    other ones."""
    space = contract_space()
    first = drive(case, case.make(space, seed=3), num)
    assert first == drive(case, case.make(space, seed=3), num), "same seed, other configs"
    assert first != drive(case, case.make(space, seed=4), num), "seeds 3 and 4 gave the same"


def check_finite_space_exhausted(case: SearcherCase) -> None:
    """On a finite space every config is suggested exactly once (a repeated initial point
    too), then ``None``, and ``None`` again."""
    space = finite_space()
    size = 1
    for domain in sp.hyperparameters(space).values():
        assert domain.cardinality is not None
        size *= domain.cardinality
    point = sp.complete_config(space, {"optimizer": "rmsprop", "num_layers": 2})
    searcher = case.make(space, points_to_evaluate=[point, point])
    configs = drive(case, searcher, size + 1)
    assert configs[0] == point
    for config in configs:
        _assert_valid(space, config)
    _assert_distinct(space, configs)
    assert len(configs) == size, f"{len(configs)} configs of a space of {size}"
    assert searcher.suggest(size) is None
    assert searcher.suggest(size + 1) is None


def _refused(case: SearcherCase, option: str, value: Any) -> bool:
    """Whether :func:`~hpo_core.searchers.make_searcher` refuses ``option`` for the case, with
    an error naming it (an error that does not name it is re-raised)."""
    try:
        case.make(contract_space(), options={option: value})
    except ValueError as err:
        if option not in str(err):
            raise
        return True
    return False


def check_restrict_configurations(case: SearcherCase, *, num_rows: int = 10) -> None:
    """A searcher that takes ``restrict_configurations`` suggests only those configs, each once
    (a repeated row too), then ``None``; an initial point among them comes first, the default
    midpoint (not among them) is dropped. A searcher that does not take it refuses it by name."""
    space = contract_space()
    rng = np.random.default_rng(5)
    table = [sp.sample_config(space, rng) for _ in range(num_rows)]
    rows = [*table, table[0]]
    if _refused(case, "restrict_configurations", rows):
        return
    searcher = case.make(space, options={"restrict_configurations": rows})
    configs = drive(case, searcher, num_rows + 2)
    for config in configs:
        _assert_valid(space, config)
    _assert_distinct(space, configs)
    assert sorted(_keys(space, configs), key=str) == sorted(_keys(space, table), key=str)
    assert searcher.suggest(len(configs)) is None

    searcher = case.make(space, options={"restrict_configurations": rows},
                         points_to_evaluate=[table[3]])
    assert searcher.suggest(0) == table[3]


def check_calls_in_any_order(case: SearcherCase) -> None:
    """``observe``, ``on_trial_error`` and ``register_pending`` are accepted in any order for
    trials the searcher suggested (each order once, then repeated, late and lower-resource
    calls), and the searcher goes on suggesting new valid configs."""
    space = contract_space()
    searcher = case.make(space)
    levels = case.levels_reached(3)  # several levels for a multi-fidelity searcher
    orders = list(itertools.permutations(("pending", "observe", "error")))
    configs: list[dict[str, Any]] = []
    for trial_id in range(len(orders)):
        config = searcher.suggest(trial_id)
        assert config is not None
        configs.append(config)
    for trial_id, order in enumerate(orders):
        config = configs[trial_id]
        for call in order:
            if call == "pending":
                searcher.register_pending(trial_id, levels[0])
            elif call == "observe":
                searcher.observe(trial_id, config, levels[0], objective(config, levels[0]))
            else:
                searcher.on_trial_error(trial_id)
    first, second = configs[:2]
    searcher.on_trial_error(0)
    searcher.on_trial_error(0)
    searcher.observe(0, first, levels[-1], objective(first, levels[-1]))
    searcher.observe(0, first, levels[0], objective(first, levels[0]))  # lower after higher
    searcher.register_pending(0, levels[-1])
    searcher.observe(1, second, levels[-1], objective(second, levels[-1]), is_rung=False)
    more = drive(case, searcher, 12, start=len(orders))
    assert len(more) == 12, f"the searcher gave up after {len(more)} configs"
    for config in more:
        _assert_valid(space, config)
    _assert_distinct(space, [*configs, *more])


def check_unknown_option(case: SearcherCase) -> None:
    """An unknown search option is refused by :func:`~hpo_core.searchers.make_searcher` with a
    ValueError naming it and the allowed options (at least those the contract uses)."""
    option = "no_such_option"
    try:
        case.make(contract_space(), options={option: 1})
    except ValueError as err:
        message = str(err)
    else:
        raise AssertionError(f"searcher {case.name!r} accepted search option {option!r}")
    assert option in message, message
    known = set(case.search_options)
    if not _refused(case, "restrict_configurations", [sp.midpoint_config(contract_space())]):
        known.add("restrict_configurations")
    missing = sorted(k for k in known if k not in message)
    assert not missing, f"the error does not name the allowed options {missing}: {message}"
