"""The searcher contract: proposes configurations, optionally learns from observed results."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np

from hpo_core import space as sp


def check_int(name: str, value: Any, minimum: int) -> int:
    """``value`` if it is an int ``>= minimum``; ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_fraction(name: str, value: Any) -> float:
    """``value`` if it is a number in ``[0, 1]``; ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def check_choice(name: str, value: Any, allowed: Sequence[Any]) -> None:
    """ValueError naming ``name`` and ``allowed`` unless ``value`` is one of them."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SearcherOptions:
    """The options of a searcher family, each with its default, checked on construction.

    A searcher class names its options type in :attr:`Searcher.options_type`; the registry
    (:func:`~hpo_core.searchers.make_searcher`) builds it from a ``search_options`` dict with
    :meth:`from_mapping`. Subclasses add fields (and checks in ``__post_init__``, calling
    ``super().__post_init__()``); a family that changes a default redeclares only that field.
    """

    def __post_init__(self) -> None:
        """Checks of the fields (none here)."""

    @classmethod
    def names(cls) -> list[str]:
        """The option names, in declaration order."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None, *, searcher: str) -> Self:
        """The options from a ``search_options`` dict (missing keys take their defaults).

        Raises:
            ValueError: Naming keys that are not options of ``searcher`` and the allowed
                ones, or an option whose value is out of range.
        """
        options = dict(options or {})
        allowed = sorted(cls.names())
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise ValueError(
                f"search_options {unknown} do not apply to searcher {searcher!r}; "
                f"allowed: {allowed}"
            )
        return cls(**options)

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` (checked again)."""
        return dataclasses.replace(self, **changes)


class Searcher(ABC):
    """Proposes configurations for new trials.

    The first proposals are the ``points_to_evaluate`` (default: one config by the midpoint rule;
    ``[]`` turns this off; partial configs are completed by the same rule), then whatever the
    concrete searcher draws.

    Every searcher is constructed with these arguments; what differs between searchers is in
    their options (:attr:`options_type`). A subclass sets up its own state in :meth:`_setup`,
    which the constructor calls last.

    Args:
        config_space: The configuration space.
        metric: Name of the metric to optimize.
        mode: ``"min"`` or ``"max"``.
        rng: The generator all of this searcher's randomness comes from.
        points_to_evaluate: Initial configs, see above.
        options: An instance of :attr:`options_type` (default: its defaults).

    Raises:
        ValueError: If ``mode`` is neither ``"min"`` nor ``"max"``.
        TypeError: If ``options`` is not an instance of :attr:`options_type`.
    """

    #: Model-free searchers set this to False: schedulers then need not forward results.
    wants_data: bool = False
    #: The options this searcher takes (``search_options`` when it is given by name).
    options_type: ClassVar[type[SearcherOptions]] = SearcherOptions

    def __init__(
        self,
        config_space: Mapping[str, Any],
        *,
        metric: str,
        mode: str,
        rng: np.random.Generator,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        options: SearcherOptions | None = None,
    ) -> None:
        sp.check_space(config_space)
        check_choice("mode", mode, ("min", "max"))
        options = self.options_type() if options is None else options
        if not isinstance(options, self.options_type):
            raise TypeError(f"options of {type(self).__name__} must be a "
                            f"{self.options_type.__name__}, got {type(options).__name__}")
        self.options = options
        self.config_space = dict(config_space)
        self.metric = metric
        self.mode = mode
        self.rng = rng
        initial = (
            [sp.midpoint_config(self.config_space)]
            if points_to_evaluate is None
            else [sp.complete_config(self.config_space, p) for p in points_to_evaluate]
        )
        self._initial: deque[dict[str, Any]] = deque(initial)
        self._setup()

    def _setup(self) -> None:  # noqa: B027
        """The subclass's own state, from :attr:`options` (called once, by the constructor;
        an override calls ``super()._setup()`` first)."""

    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        """Config for trial ``trial_id``, or ``None`` if the searcher has nothing left."""
        if self._initial:
            return self._initial.popleft()
        return self._suggest(trial_id)

    @abstractmethod
    def _suggest(self, trial_id: int) -> dict[str, Any] | None:
        """Config once the initial points are used up."""

    def observe(  # noqa: B027
        self, trial_id: int, config: Mapping[str, Any], resource: int, value: float,
        *, is_rung: bool = True,
    ) -> None:
        """A metric value of ``config`` at ``resource``. ``is_rung=False`` marks a trial's latest
        non-rung value (``searcher_data="rungs_and_last"``), which replaces the previous one."""

    def on_trial_error(self, trial_id: int) -> None:  # noqa: B027
        """The trial failed; drop anything pending for it."""

    # -- hooks of multi-fidelity schedulers (no-ops for searchers that model one fidelity) ------

    def configure_resources(  # noqa: B027
        self, *, rung_levels: Sequence[int], max_t: int, searcher_data: str = "rungs"
    ) -> None:
        """Called once by a multi-fidelity scheduler before the first suggestion.

        Args:
            rung_levels: The scheduler's rung levels below ``max_t``, increasing.
            max_t: The maximum resource.
            searcher_data: What :meth:`observe` will be given (``"rungs"``, ``"all"``,
                ``"rungs_and_last"``, see
                :class:`~hpo_core.schedulers.hyperband.HyperbandScheduler`).
        """

    def register_pending(self, trial_id: int, resource: int) -> None:  # noqa: B027
        """Trial ``trial_id`` (a config this searcher suggested) runs towards ``resource``: a new
        trial towards its first rung level, a continued or resumed one towards its next. Cleared
        by an :meth:`observe` at ``resource`` or beyond, or by :meth:`on_trial_error`."""

    def bracket_distribution(self, default: Sequence[float]) -> list[float] | None:
        """Probabilities of the Hyperband brackets for the next new trial, or ``None`` to keep
        the scheduler's ``default`` (Hyperband's proportions, one entry per bracket, bracket 0
        starting at the lowest rung level). Asked by a scheduler with several brackets each time
        it starts a trial; a searcher that learns from data which brackets pay off (Hyper-Tune)
        returns a list of the same length, non-negative, summing to 1."""
        return None
