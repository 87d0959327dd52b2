"""YAHPO Gym surrogates: one scenario and instance, an ONNX model evaluated with onnxruntime.

A YAHPO Gym scenario (e.g. ``lcbench``) is a neural network trained on the results of many
configurations over many instances (OpenML tasks); given an instance, a fidelity and the
hyperparameters it predicts every target of the scenario. A :class:`YahpoBlackbox` fixes the
instance and asks the model for a whole curve at once: one ``session.run`` whose rows are the
configuration at every fidelity value.

Model inputs (the encoding of yahpo-gym 1.0.2, ``BenchmarkSet._config_to_xs``), described by a
:class:`ModelLayout`:

* ``x_cat`` int32 ``(n, len(cat_inputs))``: the integer code (``encoding[name][value]``) of each
  categorical input in ``cat_inputs`` order; the instance is one of them. An inactive
  conditional categorical gets the code of ``"#na#"``.
* ``x_cont`` float32 ``(n, len(cont_inputs))``: the raw value of each numerical input in
  ``cont_inputs`` order, no log transform or scaling (the model applies its own); integers as
  floats; an inactive conditional parameter gets ``0``; the fidelity input gets
  ``fidelity / fidelity_divisor`` (e.g. resource ``r`` in ``1..20`` -> ``trainsize = r / 20``);
  fixed inputs (e.g. ``repl = 10``) their value.

The output (float32 ``(n, num_targets)``) holds the targets in the scenario's order, on their
original scale. The elapsed-time objective is post-processed into a cumulative time: negative
predictions become 0 and the column is made non-decreasing over fidelities (running maximum),
since the model does not guarantee monotonicity. All other objectives are the raw predictions.

File layout (one HDF5 file per blackbox, i.e. per scenario + instance)::

    /model             uint8 (num_bytes,)  the ONNX model, byte for byte
    /fidelity_values   int64 (num_fidelities,)
    attrs: kind ("yahpo"), format_version, name, scenario, instance, objective_names (JSON),
           fidelity_name, elapsed_time_attr (JSON), metric, mode, max_resource_attr (JSON),
           config_space (JSON), encoding (JSON: input -> value -> code), layout (JSON),
           model_sha256, provenance (JSON: source, licence, citation, input sha256, converter
           and its version)

Curves are cached per configuration (least recently used dropped first), so a repeated lookup is
a hash; a new configuration costs one model evaluation (about a millisecond).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hpo_core import space as sp
from hpo_core.blackboxes.base import Blackbox, Curve, atomic_hdf5

__all__ = ["FORMAT_VERSION", "KIND", "NA", "Condition", "ModelLayout", "YahpoBlackbox"]

FORMAT_VERSION = 1
KIND = "yahpo"
#: Category standing for "missing" (inactive conditional categorical) in YAHPO encodings.
NA = "#na#"

MODES = ("min", "max")


@dataclass(frozen=True)
class Condition:
    """``child`` is active iff ``parent`` is active and its value is one of ``values``.

    Several conditions on the same child must all hold.
    """

    child: str
    parent: str
    values: tuple[Any, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"child": self.child, "parent": self.parent, "values": list(self.values)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Condition:
        return cls(str(d["child"]), str(d["parent"]), tuple(d["values"]))


@dataclass(frozen=True)
class ModelLayout:
    """How a configuration of a blackbox becomes the two inputs of its ONNX model.

    Attributes:
        instance_input: Categorical input holding the instance (e.g. ``"task_id"``).
        cat_inputs: Columns of ``x_cat``, in order (the instance among them).
        cont_inputs: Columns of ``x_cont``, in order (the fidelity among them).
        fidelity_input: Input fed the fidelity, as ``fidelity / fidelity_divisor``.
        fidelity_divisor: E.g. 20 for ``trainsize = r / 20``, 1 for ``epoch``.
        fixed_inputs: Inputs fed a constant (e.g. ``{"repl": 10}``).
        conditions: When conditional hyperparameters are active.
    """

    instance_input: str
    cat_inputs: tuple[str, ...]
    cont_inputs: tuple[str, ...]
    fidelity_input: str
    fidelity_divisor: int = 1
    fixed_inputs: Mapping[str, float] = field(default_factory=dict)
    conditions: tuple[Condition, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "instance_input": self.instance_input,
            "cat_inputs": list(self.cat_inputs),
            "cont_inputs": list(self.cont_inputs),
            "fidelity_input": self.fidelity_input,
            "fidelity_divisor": self.fidelity_divisor,
            "fixed_inputs": dict(self.fixed_inputs),
            "conditions": [c.to_dict() for c in self.conditions],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelLayout:
        return cls(
            instance_input=str(d["instance_input"]),
            cat_inputs=tuple(d["cat_inputs"]),
            cont_inputs=tuple(d["cont_inputs"]),
            fidelity_input=str(d["fidelity_input"]),
            fidelity_divisor=int(d["fidelity_divisor"]),
            fixed_inputs={str(k): float(v) for k, v in d["fixed_inputs"].items()},
            conditions=tuple(Condition.from_dict(c) for c in d["conditions"]),
        )


def _session(model: bytes) -> Any:
    """An onnxruntime CPU session on one thread (a simulator runs many models side by side)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def _static_width(shape: Sequence[Any]) -> int | None:
    """Second dimension of an ONNX tensor shape if it is a fixed int."""
    return shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None


class YahpoBlackbox(Blackbox):
    """A YAHPO Gym surrogate for one instance, answering whole curves per configuration.

    Args:
        name: Blackbox name, e.g. ``"yahpo_lcbench-3945"``.
        scenario: YAHPO scenario, e.g. ``"lcbench"``.
        instance: The instance (OpenML id as a string), fixed for this blackbox.
        model: Bytes of the ONNX model.
        encoding: Integer codes of the categorical inputs: ``{input: {value: code}}``.
        layout: How configurations become model inputs.
        config_space: Hyperparameters (without instance, fidelity and fixed inputs) and
            constants (e.g. the largest fidelity under ``max_resource_attr``).
        objective_names: The model's outputs, in order.
        fidelity_name: Resource attribute name (``"epoch"``, ``"trainsize"``).
        fidelity_values: Increasing positive ints.
        elapsed_time_attr: Objective made into the cumulative elapsed time.
        metric: Default objective to optimize; ``mode`` its direction.
        provenance: Where the model comes from (source, licence, citation, sha256 of inputs,
            converter and version).
        max_resource_attr: Constant of ``config_space`` holding the largest fidelity, if any.
        cache_size: Curves kept in memory (least recently used dropped first).

    Raises:
        ValueError: If the pieces do not fit together (an input neither a hyperparameter, the
            instance, the fidelity nor fixed; an unknown category; model input or output widths
            different from the layout's; metric or elapsed time not an objective; ...).
    """

    def __init__(
        self,
        *,
        name: str,
        scenario: str,
        instance: str,
        model: bytes,
        encoding: Mapping[str, Mapping[str, int]],
        layout: ModelLayout,
        config_space: Mapping[str, Any],
        objective_names: Sequence[str],
        fidelity_name: str,
        fidelity_values: Sequence[int] | np.ndarray,
        elapsed_time_attr: str,
        metric: str,
        mode: str,
        provenance: Mapping[str, Any],
        max_resource_attr: str | None = None,
        cache_size: int = 16_384,
    ) -> None:
        sp.check_space(config_space)
        self.name = name
        self.scenario = scenario
        self.instance = str(instance)
        self.model = bytes(model)
        self.encoding = {k: {str(v): int(c) for v, c in m.items()} for k, m in encoding.items()}
        self.layout = layout
        self.config_space = dict(config_space)
        self.objective_names = list(objective_names)
        self.fidelity_name = fidelity_name
        self.fidelity_values = np.asarray(fidelity_values, dtype=np.int64)
        self.elapsed_time_attr = elapsed_time_attr
        self.metric = metric
        self.mode = mode
        self.provenance = dict(provenance)
        self.max_resource_attr = max_resource_attr
        self.num_seeds = 1
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            raise ValueError(f"cache_size must be an int >= 0, got {cache_size!r}")
        self.cache_size = cache_size
        self._check()
        self._prepare_inputs()
        self._session: Any = None
        self._start_session()
        self._cache: OrderedDict[tuple[Any, ...], Curve] = OrderedDict()

    # -- checks and precomputation ---------------------------------------------------------------

    def _check(self) -> None:
        layout = self.layout
        hps = sp.hyperparameters(self.config_space)
        fv = self.fidelity_values
        if fv.ndim != 1 or len(fv) == 0 or fv[0] < 1 or np.any(np.diff(fv) <= 0):
            raise ValueError(f"fidelity_values must be increasing positive ints, got {fv}")
        for attr in (self.metric, self.elapsed_time_attr):
            if attr not in self.objective_names:
                raise ValueError(f"{attr!r} is not among objective_names {self.objective_names}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.max_resource_attr is not None and (
            self.config_space.get(self.max_resource_attr) != int(fv[-1])
        ):
            raise ValueError(
                f"config_space[{self.max_resource_attr!r}] must be the constant {int(fv[-1])} "
                "(the largest fidelity)"
            )
        if layout.instance_input not in layout.cat_inputs:
            raise ValueError(f"instance input {layout.instance_input!r} is not in cat_inputs")
        if self.instance not in self.encoding.get(layout.instance_input, {}):
            raise ValueError(
                f"instance {self.instance!r} has no code in encoding[{layout.instance_input!r}]"
            )
        if layout.fidelity_input not in layout.cont_inputs:
            raise ValueError(f"fidelity input {layout.fidelity_input!r} is not in cont_inputs")
        if isinstance(layout.fidelity_divisor, bool) or layout.fidelity_divisor < 1:
            raise ValueError(f"fidelity_divisor must be an int >= 1: {layout.fidelity_divisor}")
        children = {c.child for c in layout.conditions}
        for c in layout.conditions:
            for hp in (c.child, c.parent):
                if hp not in hps:
                    raise ValueError(f"condition {c} names {hp!r}, not a hyperparameter")
        special = {layout.instance_input, layout.fidelity_input, *layout.fixed_inputs}
        for name in layout.cat_inputs:
            if name == layout.instance_input:
                continue
            domain = hps.get(name)
            if not isinstance(domain, sp.Categorical):
                raise ValueError(f"categorical input {name!r} is not a choice hyperparameter")
            codes = self.encoding.get(name, {})
            needed = [*domain.categories, *([NA] if name in children else [])]
            missing = [v for v in needed if str(v) not in codes]
            if missing:
                raise ValueError(f"encoding[{name!r}] has no code for {missing}")
        for name in layout.cont_inputs:
            if name in special:
                continue
            domain = hps.get(name)
            if domain is None or isinstance(domain, sp.Categorical):
                raise ValueError(
                    f"numerical input {name!r} is neither a numerical hyperparameter, the "
                    "fidelity nor a fixed input"
                )
        unused = sorted(set(hps) - set(layout.cat_inputs) - set(layout.cont_inputs))
        if unused:
            raise ValueError(f"hyperparameters {unused} are not inputs of the model")
        clash = sorted(special & set(hps))
        if clash:
            raise ValueError(f"{clash} are instance/fidelity/fixed inputs, not hyperparameters")

    def _prepare_inputs(self) -> None:
        layout = self.layout
        n = len(self.fidelity_values)
        self._cat_row = np.zeros(len(layout.cat_inputs), dtype=np.int32)
        self._cat_row[layout.cat_inputs.index(layout.instance_input)] = self.encoding[
            layout.instance_input
        ][self.instance]
        #: (column, hyperparameter, codes, code of NA or None)
        self._cat_columns = [
            (i, name, self.encoding[name], self.encoding[name].get(NA))
            for i, name in enumerate(layout.cat_inputs)
            if name != layout.instance_input
        ]
        self._cont_row = np.zeros(len(layout.cont_inputs), dtype=np.float64)
        for name, value in layout.fixed_inputs.items():
            self._cont_row[layout.cont_inputs.index(name)] = value
        self._fidelity_column = layout.cont_inputs.index(layout.fidelity_input)
        self._fidelity_inputs = (self.fidelity_values / layout.fidelity_divisor).astype(
            np.float32
        )
        special = {layout.fidelity_input, *layout.fixed_inputs}
        self._cont_columns = [
            (i, name) for i, name in enumerate(layout.cont_inputs) if name not in special
        ]
        self._hp_names = list(sp.hyperparameters(self.config_space))
        self._space_keys = frozenset(self.config_space)
        self._constants = list(sp.constants(self.config_space).items())
        self._time_index = self.objective_names.index(str(self.elapsed_time_attr))
        self._n = n

    def _start_session(self) -> None:
        session = _session(self.model)
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if len(inputs) != 2 or len(outputs) < 1:
            raise ValueError(
                f"the model must have 2 inputs (x_cat, x_cont) and an output, has "
                f"{[i.name for i in inputs]} -> {[o.name for o in outputs]}"
            )
        for tensor, width, what in (
            (inputs[0], len(self.layout.cat_inputs), "categorical input"),
            (inputs[1], len(self.layout.cont_inputs), "numerical input"),
            (outputs[0], len(self.objective_names), "output"),
        ):
            actual = _static_width(tensor.shape)
            if actual is not None and actual != width:
                raise ValueError(
                    f"model {what} {tensor.name!r} has width {actual}, the layout {width}"
                )
        self._cat_name, self._cont_name = inputs[0].name, inputs[1].name
        self._output_name = outputs[0].name
        self._session = session

    # -- evaluation -------------------------------------------------------------------------------

    def inactive(self, config: Mapping[str, Any]) -> set[str]:
        """Hyperparameters of ``config`` that its conditions switch off."""
        off: set[str] = set()
        changed = True
        while changed:  # a fixpoint, so conditions may come in any order
            changed = False
            for c in self.layout.conditions:
                if c.child not in off and (c.parent in off or config[c.parent] not in c.values):
                    off.add(c.child)
                    changed = True
        return off

    def encode(self, config: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """The model inputs of ``config`` at every fidelity (see the module docstring).

        ``config`` is not validated here (:meth:`curve` does that).

        Returns:
            ``x_cat`` int32 ``(num_fidelities, len(cat_inputs))`` and ``x_cont`` float32
            ``(num_fidelities, len(cont_inputs))``.
        """
        off = self.inactive(config) if self.layout.conditions else set()
        cat = self._cat_row.copy()
        for i, name, codes, na in self._cat_columns:
            # Only condition children can be off, and those have an NA code (see _check).
            cat[i] = na if name in off and na is not None else codes[str(config[name])]
        cont = self._cont_row.copy()
        for i, name in self._cont_columns:
            cont[i] = 0.0 if name in off else float(config[name])
        x_cat = np.broadcast_to(cat, (self._n, len(cat))).copy()
        x_cont = np.broadcast_to(cont.astype(np.float32), (self._n, len(cont))).copy()
        x_cont[:, self._fidelity_column] = self._fidelity_inputs
        return x_cat, x_cont

    def raw_predictions(self, config: Mapping[str, Any]) -> np.ndarray:
        """The model's output for ``config`` at every fidelity, float32, not post-processed."""
        x_cat, x_cont = self.encode(config)
        out = self._session.run(
            [self._output_name], {self._cat_name: x_cat, self._cont_name: x_cont}
        )[0]
        return np.asarray(out)

    def raw_predictions_at(
        self, configs: Sequence[Mapping[str, Any]], fidelity: int | None = None
    ) -> np.ndarray:
        """The model's outputs for many configurations at one fidelity, in one model call.

        Args:
            configs: Configurations (validated).
            fidelity: One of :attr:`fidelity_values`; default the largest.

        Returns:
            float32 ``(len(configs), num_objectives)``, not post-processed.

        Raises:
            ValueError: If a configuration is invalid or ``fidelity`` is not a fidelity value.
        """
        fidelity = int(self.fidelity_values[-1]) if fidelity is None else fidelity
        rows = np.flatnonzero(self.fidelity_values == fidelity)
        if len(rows) != 1:
            raise ValueError(
                f"fidelity {fidelity!r} is not one of {self.fidelity_values.tolist()}"
            )
        if not configs:
            return np.empty((0, len(self.objective_names)), dtype=np.float32)
        cats, conts = [], []
        for config in configs:
            sp.validate_config(self.config_space, config)
            x_cat, x_cont = self.encode(config)
            cats.append(x_cat[rows[0]])
            conts.append(x_cont[rows[0]])
        out = self._session.run(
            [self._output_name], {self._cat_name: np.stack(cats), self._cont_name: np.stack(conts)}
        )[0]
        return np.asarray(out)

    def _objectives(self, config: Mapping[str, Any]) -> np.ndarray:
        objectives = self.raw_predictions(config).astype(np.float64)
        time = np.maximum(objectives[:, self._time_index], 0.0)
        objectives[:, self._time_index] = np.maximum.accumulate(time)
        objectives.setflags(write=False)
        return objectives

    def curve(self, config: Mapping[str, Any], seed: int = 0) -> Curve:
        """All objectives of ``config`` at every fidelity.

        Args:
            config: A configuration of :attr:`config_space` (constants may be left out).
            seed: Ignored: the model is deterministic (``num_seeds == 1``).

        Returns:
            The curve; its array is read-only and shared between calls. A configuration whose
            hyperparameter values equal (``==``) those of a cached one gets the cached curve.

        Raises:
            ValueError: If ``config`` lacks a hyperparameter, has an unknown key, a value
                outside its domain or a constant different from the space's.
        """
        try:
            # The key of sp.config_key, without its per-entry type checks.
            key = tuple([config[k] for k in self._hp_names])
            hit = self._cache.get(key)
        except (KeyError, TypeError):  # a missing or an unhashable value: invalid
            sp.validate_config(self.config_space, config)
            raise
        if hit is not None:
            # The hyperparameter values were validated when the curve was cached; check the
            # rest (unknown keys, constants) without re-validating every domain.
            if not config.keys() <= self._space_keys or any(
                k in config and config[k] != v for k, v in self._constants
            ):
                sp.validate_config(self.config_space, config)  # raises, naming the problem
            self._cache.move_to_end(key)
            return hit
        sp.validate_config(self.config_space, config)
        result = Curve(self._objectives(config))
        if self.cache_size:
            self._cache[key] = result
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return result

    @property
    def num_cached_curves(self) -> int:
        """Curves currently held in the cache."""
        return len(self._cache)

    def clear_cache(self) -> None:
        self._cache.clear()

    # -- pickling (the onnxruntime session is rebuilt from the model bytes) ----------------------

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_session"] = None
        state["_cache"] = OrderedDict()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._start_session()

    # -- storage ----------------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the HDF5 file atomically (temporary name, then rename)."""
        with atomic_hdf5(path) as f:
            f.create_dataset("model", data=np.frombuffer(self.model, dtype=np.uint8))
            f.create_dataset("fidelity_values", data=self.fidelity_values)
            f.attrs.update(
                {
                    "kind": KIND,
                    "format_version": FORMAT_VERSION,
                    "name": self.name,
                    "scenario": self.scenario,
                    "instance": self.instance,
                    "objective_names": json.dumps(self.objective_names),
                    "fidelity_name": self.fidelity_name,
                    "elapsed_time_attr": json.dumps(self.elapsed_time_attr),
                    "metric": self.metric,
                    "mode": self.mode,
                    "max_resource_attr": json.dumps(self.max_resource_attr),
                    "config_space": sp.space_to_json(self.config_space),
                    "encoding": json.dumps(self.encoding),
                    "layout": json.dumps(self.layout.to_dict()),
                    "model_sha256": hashlib.sha256(self.model).hexdigest(),
                    "provenance": json.dumps(self.provenance),
                }
            )

    @classmethod
    def load(cls, path: str | Path, *, cache_size: int = 16_384) -> YahpoBlackbox:
        """Read a file written by :meth:`save` and start its onnxruntime session.

        Raises:
            ValueError: If the file is not a YAHPO blackbox of this format version, or the
                model bytes do not match their recorded sha256.
        """
        import h5py

        with h5py.File(path, "r") as f:
            attrs = dict(f.attrs)
            if str(attrs.get("kind")) != KIND:
                raise ValueError(f"{path}: kind {attrs.get('kind')!r} is not {KIND!r}")
            if int(attrs.get("format_version", -1)) != FORMAT_VERSION:
                raise ValueError(
                    f"{path}: format_version {attrs.get('format_version')} is not "
                    f"{FORMAT_VERSION}; rebuild the blackbox"
                )
            model = f["model"][()].tobytes()
            fidelity_values = f["fidelity_values"][()]
        if hashlib.sha256(model).hexdigest() != str(attrs["model_sha256"]):
            raise ValueError(f"{path}: the stored model does not match its sha256")
        return cls(
            name=str(attrs["name"]),
            scenario=str(attrs["scenario"]),
            instance=str(attrs["instance"]),
            model=model,
            encoding=json.loads(attrs["encoding"]),
            layout=ModelLayout.from_dict(json.loads(attrs["layout"])),
            config_space=sp.space_from_json(str(attrs["config_space"])),
            objective_names=json.loads(attrs["objective_names"]),
            fidelity_name=str(attrs["fidelity_name"]),
            fidelity_values=fidelity_values,
            elapsed_time_attr=json.loads(attrs["elapsed_time_attr"]),
            metric=str(attrs["metric"]),
            mode=str(attrs["mode"]),
            provenance=json.loads(attrs["provenance"]),
            max_resource_attr=json.loads(attrs["max_resource_attr"]),
            cache_size=cache_size,
        )

    def __repr__(self) -> str:
        return (
            f"YahpoBlackbox({self.name!r}, scenario={self.scenario!r}, "
            f"instance={self.instance!r}, fidelities={self.fidelity_name} "
            f"{int(self.fidelity_values[0])}..{int(self.fidelity_values[-1])})"
        )
