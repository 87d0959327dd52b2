"""Brackets of synchronous Hyperband and DEHB: rungs of slots, filled rung by rung.

A bracket is a list of rungs, each a resource level with a number of *slots*. Only the lowest
rung that is not full takes jobs; a slot handed out is *pending* until its result arrives; the
rung is decided when every slot holds a result. In synchronous Hyperband the best trials of a
decided rung fill the slots of the next one (:class:`HyperbandBracket`); in DEHB the scheduler
fills every slot itself (:class:`DEHBBracket`).

:class:`BracketManager` runs several brackets at once, as Syne Tune 0.13.0 does: jobs go to the
*primary* bracket (the oldest active one) and, while all its free slots are pending, to the next
active bracket, or to a new one; a job is therefore never delayed and no worker waits for a
rung to be decided. Bracket ``k`` uses the rung system ``k mod len(rung_systems)``, so the
brackets cycle through Hyperband's brackets.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from hpo_core.schedulers.rungs import RungInfo

#: A rung: ``(number of slots, resource level)``.
RungSpec = tuple[int, int]


def geometric_rung_systems(
    *, grace_period: int, max_t: int, reduction_factor: float, brackets: int | None = None
) -> list[list[RungSpec]]:
    """The rungs of each synchronous Hyperband bracket (Li et al., 2018), largest bracket first.

    With ``s_max`` the smallest ``s`` with ``grace_period * reduction_factor**s >= max_t``,
    bracket ``b`` (``0 <= b <= s_max``) has ``r = s_max - b`` rungs below ``max_t`` at levels
    ``round(grace_period * reduction_factor**(j + b))`` with ``ceil(p * reduction_factor**(r -
    j))`` slots (``p = (s_max + 1) / (r + 1)``), and a top rung at ``max_t`` with ``ceil(p)``
    slots: every bracket spends about the same resource. ``brackets=None`` means all ``s_max +
    1`` brackets; more than that are capped to it, as in Syne Tune.

    Raises:
        ValueError: If the arguments are out of range or the rounded levels are not increasing.
    """
    if isinstance(grace_period, bool) or not isinstance(grace_period, int) or grace_period < 1:
        raise ValueError(f"grace_period must be an int >= 1, got {grace_period!r}")
    if grace_period >= max_t:
        raise ValueError(f"grace_period must be below max_t={max_t}, got {grace_period}")
    if (isinstance(reduction_factor, bool) or not isinstance(reduction_factor, int | float)
            or not reduction_factor >= 2):
        raise ValueError(f"reduction_factor must be a number >= 2, got {reduction_factor!r}")
    if brackets is not None and (
        isinstance(brackets, bool) or not isinstance(brackets, int) or brackets < 1
    ):
        raise ValueError(f"brackets must be an int >= 1 or None, got {brackets!r}")
    s_max = 0
    while grace_period * reduction_factor**s_max < max_t:
        s_max += 1
    num_brackets = s_max + 1 if brackets is None else min(brackets, s_max + 1)
    systems = []
    for b in range(num_brackets):
        r = s_max - b
        prefactor = (s_max + 1) / (r + 1)
        rungs = [
            (math.ceil(prefactor * reduction_factor ** (r - j)),
             round(grace_period * reduction_factor ** (j + b)))
            for j in range(r)
        ]
        rungs.append((math.ceil(prefactor), max_t))
        check_rungs(rungs)
        systems.append(rungs)
    return systems


def check_rungs(rungs: list[RungSpec]) -> None:
    """Raise unless levels strictly increase and sizes do not (positive ints)."""
    sizes = [s for s, _ in rungs]
    levels = [lvl for _, lvl in rungs]
    if not rungs or min(sizes) < 1 or min(levels) < 1 or any(
        a >= b for a, b in itertools.pairwise(levels)
    ) or any(a < b for a, b in itertools.pairwise(sizes)):
        raise ValueError(
            f"rungs (size, level) {rungs} must have strictly increasing levels and "
            "non-increasing sizes (choose grace_period, reduction_factor and max_t so that the "
            "rounded levels differ)"
        )


@dataclass(slots=True)
class Slot:
    """A job: slot ``slot_index`` of rung ``rung_index`` (at ``level``) of a bracket.

    ``trial_id`` is the trial to resume there, or ``None`` when a new config is to be started
    (the scheduler sets it).
    """

    rung_index: int
    level: int
    slot_index: int
    trial_id: int | None


def ranked_trials(
    rung: list[tuple[int | None, float]], size: int, *, mode: str
) -> tuple[list[int | None], list[int | None]]:
    """``(top, rest)``: the ``size`` best trials of a decided rung and the others.

    Values are ranked best first, equal values in slot order; NaN values (failed trials) are
    ranked last, in slot order.
    """
    valid = [entry for entry in rung if not math.isnan(entry[1])]
    if len(valid) >= size:
        if mode == "max":
            ordered = sorted(valid, key=lambda entry: entry[1], reverse=True)
        else:
            ordered = sorted(valid, key=lambda entry: entry[1])
        top = [trial_id for trial_id, _ in ordered[:size]]
    else:
        failed = [trial_id for trial_id, value in rung if math.isnan(value)]
        top = [trial_id for trial_id, _ in valid] + failed[: size - len(valid)]
    chosen = set(top)
    rest = [trial_id for trial_id, _ in rung if trial_id not in chosen]
    return top, rest


class Bracket:
    """Rungs of slots; only the lowest rung that is not decided takes jobs.

    Args:
        rungs: ``(size, level)`` per rung, lowest first.
        mode: ``"min"`` or ``"max"``.
    """

    def __init__(self, rungs: list[RungSpec], *, mode: str) -> None:
        check_rungs(rungs)
        self.mode = mode
        self.levels = [level for _, level in rungs]
        self.sizes = [size for size, _ in rungs]
        #: Trial of each slot (``None``: not assigned yet), per rung.
        self.trials: list[list[int | None]] = [[None] * size for size, _ in rungs]
        #: Result of each slot (``None``: free or pending), per rung.
        self.values: list[list[float | None]] = [[None] * size for size, _ in rungs]
        self.current_rung = 0
        self._next_free = 0
        self._num_results = 0

    @property
    def num_rungs(self) -> int:
        return len(self.levels)

    @property
    def complete(self) -> bool:
        return self.current_rung >= self.num_rungs

    def next_free_slot(self) -> Slot | None:
        """The next free slot of the current rung (now pending), or ``None`` if there is none."""
        if self.complete or self._next_free >= self.sizes[self.current_rung]:
            return None
        rung, position = self.current_rung, self._next_free
        self._next_free += 1
        return Slot(rung, self.levels[rung], position, self.trials[rung][position])

    def on_result(self, slot: Slot, trial_id: int | None, value: float) -> list[int | None]:
        """Fill a pending slot of the current rung with ``value`` (NaN: failed) of ``trial_id``.

        Returns the trials not promoted if this decides the rung (and it is not the last),
        else ``[]``.
        """
        rung = self.current_rung
        if slot.rung_index != rung or not 0 <= slot.slot_index < self._next_free:
            raise RuntimeError(f"slot {slot} is not pending in rung {rung}")
        if self.values[rung][slot.slot_index] is not None:
            raise RuntimeError(f"slot {slot} already has a result")
        self._check_trial(rung, slot.slot_index, trial_id)
        self.trials[rung][slot.slot_index] = trial_id
        self.values[rung][slot.slot_index] = value
        self._num_results += 1
        if self._num_results < self.sizes[rung]:
            return []
        self.current_rung += 1
        self._next_free = 0
        self._num_results = 0
        if self.complete:
            return []
        return self._open_rung()

    def decided_rung(self, rung_index: int) -> list[tuple[int | None, float]]:
        """``(trial, value)`` of every slot of a decided rung, in slot order."""
        values = self.values[rung_index]
        return [(t, v) for t, v in zip(self.trials[rung_index], values, strict=True)
                if v is not None]

    def _check_trial(self, rung: int, position: int, trial_id: int | None) -> None:
        """Hook: raise if ``trial_id`` may not fill the slot."""

    def _open_rung(self) -> list[int | None]:
        """Hook: the current rung was just opened; return the trials not promoted to it."""
        return []


class HyperbandBracket(Bracket):
    """A synchronous Hyperband bracket: when a rung is decided, its best trials (as many as the
    next rung has slots, :func:`ranked_trials`) are promoted to the next rung's slots."""

    def _check_trial(self, rung: int, position: int, trial_id: int | None) -> None:
        assigned = self.trials[rung][position]
        if assigned is not None and assigned != trial_id:
            raise RuntimeError(f"slot {position} of rung {rung} belongs to trial {assigned}")

    def _open_rung(self) -> list[int | None]:
        rung = self.current_rung
        top, rest = ranked_trials(self.decided_rung(rung - 1), self.sizes[rung], mode=self.mode)
        self.trials[rung] = top
        return rest


class DEHBBracket(Bracket):
    """A DEHB bracket: the scheduler chooses the trial of every slot (a result may name another
    trial than the one run, the winner of DE's selection); nothing is promoted automatically."""

    def top_of_previous_rung(self) -> list[int | None]:
        """The best trials of the rung below the current one, as many as the current has slots."""
        rung = self.current_rung
        if rung == 0:
            raise RuntimeError("the current rung is the bracket's base rung")
        return ranked_trials(self.decided_rung(rung - 1), self.sizes[rung], mode=self.mode)[0]


class BracketManager:
    """Hands out jobs from the active brackets and passes results back to them.

    Args:
        rung_systems: The rungs of each kind of bracket (bracket ``k`` uses ``rung_systems[k %
            len(rung_systems)]``); bracket kind ``k`` has ``len(rung_systems[0]) - k`` rungs.
        mode: ``"min"`` or ``"max"``.
        bracket_type: :class:`HyperbandBracket` or :class:`DEHBBracket`.
    """

    def __init__(self, rung_systems: list[list[RungSpec]], *, mode: str,
                 bracket_type: type[Bracket] = HyperbandBracket) -> None:
        if not rung_systems:
            raise ValueError("rung_systems must not be empty")
        for kind, rungs in enumerate(rung_systems):
            check_rungs(rungs)
            if len(rungs) != len(rung_systems[0]) - kind:
                raise ValueError(f"bracket kind {kind} must have {len(rung_systems[0]) - kind} "
                                 f"rungs, got {rungs}")
        self.rung_systems = [list(rungs) for rungs in rung_systems]
        self.mode = mode
        self._bracket_type = bracket_type
        self.brackets: list[Bracket] = []
        self._previous_level: list[dict[int, int]] = [
            dict(zip([lvl for _, lvl in rungs], [0] + [lvl for _, lvl in rungs[:-1]],
                     strict=True))
            for rungs in rung_systems
        ]
        #: Results recorded at each level, over all brackets (failed slots included).
        self.num_results = dict.fromkeys(sorted({lvl for rungs in rung_systems
                                                 for _, lvl in rungs}), 0)
        self.primary = self._new_bracket()

    @property
    def num_kinds(self) -> int:
        return len(self.rung_systems)

    def kind(self, bracket_id: int) -> int:
        return bracket_id % self.num_kinds

    def _new_bracket(self) -> int:
        self.brackets.append(
            self._bracket_type(self.rung_systems[len(self.brackets) % self.num_kinds],
                               mode=self.mode))
        return len(self.brackets) - 1

    def next_job(self) -> tuple[int, Slot]:
        """``(bracket_id, slot)``: a free slot of the oldest active bracket that has one, or of a
        new bracket."""
        for bracket_id in range(self.primary, len(self.brackets)):
            slot = self.brackets[bracket_id].next_free_slot()
            if slot is not None:
                return bracket_id, slot
        bracket_id = self._new_bracket()
        slot = self.brackets[bracket_id].next_free_slot()
        assert slot is not None, "a new bracket has free slots"
        return bracket_id, slot

    def on_result(self, bracket_id: int, slot: Slot, trial_id: int | None,
                  value: float) -> list[int | None]:
        """Pass a result to its bracket; returns the trials not promoted (see
        :meth:`Bracket.on_result`). When the primary bracket completes, the next incomplete
        one (or a new one) becomes primary."""
        if not self.primary <= bracket_id < len(self.brackets):
            raise RuntimeError(f"bracket {bracket_id} is not active")
        bracket = self.brackets[bracket_id]
        not_promoted = bracket.on_result(slot, trial_id, value)
        self.num_results[slot.level] += 1
        if bracket_id == self.primary:
            last = len(self.brackets) - 1
            while self.brackets[self.primary].complete and self.primary < last:
                self.primary += 1
            if self.brackets[self.primary].complete:
                self.primary = self._new_bracket()
        return not_promoted

    def rung_sizes(self, reduction_factor: float) -> list[RungInfo]:
        """(level, results recorded there, fraction kept) per level below the largest, for the
        rung-size extra results."""
        levels = list(self.num_results)[:-1]
        return [RungInfo(level, self.num_results[level], 1.0 / reduction_factor)
                for level in levels]

    def previous_level(self, bracket_id: int, level: int) -> int:
        """The rung level below ``level`` in the bracket (0 below its base rung)."""
        return self._previous_level[self.kind(bracket_id)][level]


class DEHBBracketManager(BracketManager):
    """The brackets of DEHB (Awad et al., 2021): bracket kind ``k`` is the first bracket's rungs
    from the ``k``-th on, so a rung's size depends on its level only (later brackets spend
    less), and every slot has a *parent slot*: the slot of the same index and level in the
    latest earlier bracket that has that level (DE's target and parent pool come from there).

    Args:
        first_bracket: ``(size, level)`` per rung of the first bracket.
        mode: ``"min"`` or ``"max"``.
        brackets: Number of bracket kinds cycled through (default: one per rung).
    """

    def __init__(self, first_bracket: list[RungSpec], *, mode: str,
                 brackets: int | None = None) -> None:
        num = len(first_bracket) if brackets is None else brackets
        if not 1 <= num <= len(first_bracket):
            raise ValueError(f"brackets must be in [1, {len(first_bracket)}], got {brackets}")
        super().__init__([first_bracket[k:] for k in range(num)], mode=mode,
                         bracket_type=DEHBBracket)
        # (kind, level) -> (how many brackets back the parent is, its rung index there): the
        # previous bracket if it has the level (it starts one rung lower, or is the last kind),
        # else the latest one whose base rung is at the level. (Syne Tune 0.13.0 maps kind 0
        # to ``num_kinds - rung_index`` back, which points forwards when there are fewer kinds
        # than rungs; there it fails.)
        self._parent: dict[tuple[int, int], tuple[int, int]] = {}
        kinds = self.num_kinds
        for kind, rungs in enumerate(self.rung_systems):
            for rung_index, (_, level) in enumerate(rungs):
                if kind > 0:
                    self._parent[(kind, level)] = (1, rung_index + 1)
                else:
                    back = max(1, kinds - rung_index)
                    self._parent[(kind, level)] = (back, rung_index - (kinds - back))
        self._top_cache: dict[tuple[int, int], list[int | None]] = {}

    def bracket(self, bracket_id: int) -> DEHBBracket:
        bracket = self.brackets[bracket_id]
        assert isinstance(bracket, DEHBBracket)
        return bracket

    def parent_trial(self, bracket_id: int, level: int, slot_index: int) -> int | None:
        """The trial in the parent slot: same index and level in the latest earlier bracket
        whose slot holds a trial; ``None`` if there is none."""
        trial_id = None
        while trial_id is None and bracket_id > 0:
            back, rung_index = self._parent[(self.kind(bracket_id), level)]
            bracket_id -= back
            trial_id = self.brackets[bracket_id].trials[rung_index][slot_index]
        return trial_id

    def top_of_previous_rung(self, bracket_id: int, position: int) -> int | None:
        """The trial ranked ``position`` (0: best) in the rung below the bracket's current
        one."""
        key = (bracket_id, self.brackets[bracket_id].current_rung)
        top = self._top_cache.get(key)
        if top is None:
            top = self._top_cache[key] = self.bracket(bracket_id).top_of_previous_rung()
        return top[position]
