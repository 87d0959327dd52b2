"""YAHPO Gym surrogates (yahpo_data v1.0.2): one converter namespace per scenario.

Each scenario is its own family (``yahpo_lcbench``, ``yahpo_rbv2_xgboost``, ``yahpo_rbv2_rpart``,
``yahpo_iaml_glmnet``) whose datasets are the scenario's instances, as strings: OpenML *task* ids
for lcbench, OpenML *dataset* ids for rbv2 and iaml (as yahpo-gym's README points out). The
namespaces :data:`LCBENCH`, :data:`RBV2_XGBOOST`, :data:`RBV2_RPART` and :data:`IAML_GLMNET`
(also in :data:`SCENARIOS`, keyed by family) each expose the converter interface of
:mod:`hpo_core.blackboxes.converters` (``FAMILY``, ``VERSION``, ``datasets()``, ``inputs()``,
``convert()``) plus ``selected_instances()``; :data:`REGISTRY` gives their
``"module:attribute"`` targets for the blackbox repository.

Inputs of every instance of a scenario: ``<family>/model.onnx``, ``<family>/config_space.json``
and ``<family>/encoding.json`` (catalogue paths, e.g. ``yahpo_lcbench/model.onnx``).

Conversion (:meth:`YahpoScenario.convert`):

* Config space from ``config_space.json`` (ConfigSpace JSON): ``uniform_float`` ->
  ``uniform``/``loguniform``, ``uniform_int`` -> ``randint``/``lograndint``, ``categorical`` ->
  ``choice``; bounds rounded to 12 significant digits (the file's ``0.00010000000000000009`` is
  ``1e-4``). The instance, the fidelity and fixed inputs are not hyperparameters; a constant
  holding the largest fidelity is added (``epochs`` = 52 for lcbench, ``max_trainsize`` = 20
  otherwise), for ``max_resource_attr``. Conditions (rbv2_xgboost's ``booster``-dependent
  parameters) are kept in the model layout; the space itself is flat, and inactive values are
  ignored when encoding (fed as yahpo-gym feeds missing values: ``0``, ``"#na#"``).
* Model input layout (column order of ``x_cat``/``x_cont``) and target order: yahpo-gym 1.0.2's
  scenario definitions (``cat_names``, ``cont_names``, ``y_names``), checked against the model's
  input and output widths.

Fidelities and elapsed time:

* ``lcbench``: resource ``epoch`` 1..52 fed as is. YAHPO epoch ``e`` is point ``e - 1`` of the
  LCBench curves, whose first and last points are known to be unreliable (Syne Tune recommends its
  own LCBench blackbox over this surrogate for that reason). ``time`` is the cumulative training
  time to epoch ``e``; it is made non-decreasing (running maximum), which changes about 7% of
  random configurations' curves by at most about 3%.
* ``rbv2_*``, ``iaml_*``: resource ``trainsize`` 1..20, fed as ``trainsize = r / 20`` (as Syne
  Tune's import does: ``randint(1, 20)``); ``repl`` (rbv2) is fixed to 10 and not a
  hyperparameter. ``timetrain`` is the predicted time of *one* fit on the fraction ``r / 20``; it
  serves as the cumulative elapsed time at resource ``r`` (made non-decreasing), so a trial
  continued from ``r`` to ``r'`` is charged ``timetrain(r') - timetrain(r)``, as if the fit on the
  larger subset continued the smaller one (Syne Tune's convention), not a refit from scratch.
  The predicted ``timetrain`` often dips slightly at the largest trainsizes; on random
  configurations the running maximum changes a curve by a median of 1.5% (xgboost, instance 29)
  to 5.5% (rpart, instance 1111) of its maximum.

Default metric: ``val_accuracy`` (max) for lcbench, ``f1`` (max) for rbv2 and iaml (Syne Tune's
first metric for these families; ``f1`` is meaningful on binary tasks only, which all selected
instances are).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hpo_core import space as sp
from hpo_core.blackboxes.safe_pickle import sha256_of
from hpo_core.blackboxes.yahpo import Condition, ModelLayout, YahpoBlackbox

__all__ = [
    "IAML_GLMNET",
    "LCBENCH",
    "RBV2_RPART",
    "RBV2_XGBOOST",
    "REGISTRY",
    "SCENARIOS",
    "VERSION",
    "YahpoScenario",
    "conditions_from_json",
    "config_space_from_json",
    "is_non_degenerate",
    "metric_spread",
]

VERSION = "1.0"

_SOURCE = {
    "name": "YAHPO Gym surrogate models (yahpo_data)",
    "repository": "https://github.com/slds-lmu/yahpo_data",
    "tag": "v1.0.2",
    "commit": "e1a472a061fec6df2e090b3c72fe560d858c2062",
    "input_encoding": "yahpo-gym 1.0.2 (PyPI), BenchmarkSet._config_to_xs",
}
_LICENCE = "Apache-2.0"
_CITATION = (
    "Pfisterer, F., Schneider, L., Moosbauer, J., Binder, M. and Bischl, B. (2022). YAHPO Gym - "
    "An Efficient Multi-Objective Multi-Fidelity Benchmark for Hyperparameter Optimization. "
    "International Conference on Automated Machine Learning (AutoML Conf 2022), PMLR 188. "
    "arXiv:2109.03670"
)
_LCBENCH_CITATIONS = (
    "Zimmer, L., Lindauer, M. and Hutter, F. (2021). Auto-PyTorch: Multi-Fidelity Metalearning "
    "for Efficient and Robust AutoDL. IEEE TPAMI 43(9), 3079-3090.",
    "Zimmer, L. (2020). data_2k_lw.zip. figshare. Dataset. "
    "https://doi.org/10.6084/m9.figshare.11662422.v1, Apache License, Version 2.0.",
)
_RBV2_CITATIONS = (
    "Binder, M., Pfisterer, F. and Bischl, B. (2020). Collecting Empirical Data About "
    "Hyperparameters for Data Driven AutoML. 7th ICML Workshop on Automated Machine Learning.",
)

#: The largest fidelity is added to the config space under this constant.
EPOCHS = "epochs"
MAX_TRAINSIZE = "max_trainsize"

_RBV2_TARGETS = (
    "acc", "bac", "auc", "brier", "f1", "logloss", "timetrain", "timepredict", "memory",
)
_IAML_TARGETS = (
    "mmce", "f1", "auc", "logloss", "ramtrain", "rammodel", "rampredict", "timetrain",
    "timepredict", "mec", "ias", "nf",
)

_LCBENCH_INSTANCES = (
    "3945", "7593", "34539", "126025", "126026", "126029", "146212", "167104", "167149",
    "167152", "167161", "167168", "167181", "167184", "167185", "167190", "167200", "167201",
    "168329", "168330", "168331", "168335", "168868", "168908", "168910", "189354", "189862",
    "189865", "189866", "189873", "189905", "189906", "189908", "189909",
)
_RBV2_RPART_INSTANCES = (
    "3", "6", "11", "12", "14", "15", "16", "18", "22", "23", "24", "28", "29", "31", "32", "37",
    "38", "42", "44", "46", "50", "54", "60", "151", "181", "182", "188", "300", "307", "312",
    "334", "375", "377", "458", "469", "470", "554", "1040", "1049", "1050", "1053", "1056",
    "1063", "1067", "1068", "1111", "1220", "1457", "1461", "1462", "1464", "1468", "1475",
    "1476", "1478", "1479", "1480", "1485", "1486", "1487", "1489", "1493", "1494", "1497",
    "1501", "1510", "1515", "1590", "4134", "4135", "4154", "4534", "4538", "4541", "6332",
    "23381", "23512", "23517", "40496", "40498", "40499", "40536", "40668", "40670", "40685",
    "40701", "40900", "40923", "40927", "40966", "40975", "40978", "40979", "40981", "40982",
    "40983", "40984", "40994", "40996", "41027", "41138", "41142", "41143", "41146", "41150",
    "41156", "41157", "41159", "41161", "41162", "41163", "41164", "41165", "41166", "41168",
    "41169", "41212",
)
_RBV2_XGBOOST_INSTANCES = (*_RBV2_RPART_INSTANCES, "41216", "41278")
_IAML_INSTANCES = ("1067", "1489", "40981", "41146")


@dataclass(frozen=True)
class YahpoScenario:
    """Converter namespace of one YAHPO scenario (see the module docstring).

    Attributes:
        FAMILY: Family name, also the folder of the raw files and of the blackbox files.
        VERSION: Converter version, recorded in each blackbox's provenance.
        scenario: YAHPO scenario name.
        instance_input: Categorical input holding the instance.
        cat_inputs, cont_inputs: Model input columns, in order (yahpo-gym's ``cat_names``,
            ``cont_names``).
        targets: Model outputs, in order (yahpo-gym's ``y_names``).
        fidelity_input: Input fed the fidelity; ``fidelity_name`` the resource attribute.
        fidelity_values: The resource values.
        fidelity_divisor: Resource ``r`` is fed as ``r / fidelity_divisor``.
        fixed_inputs: Inputs fed a constant and removed from the space.
        max_resource_attr: Config-space constant holding the largest fidelity.
        elapsed_time_attr: Target used as cumulative elapsed time.
        metric, mode: Default objective and direction.
        instances: All instances of the scenario (its ``config_space.json`` choices).
        selected: A documented subset of instances; ``selection`` says how it was chosen.
        data_citations: Sources of the data the surrogate was trained on.
    """

    FAMILY: str
    scenario: str
    instance_input: str
    cat_inputs: tuple[str, ...]
    cont_inputs: tuple[str, ...]
    targets: tuple[str, ...]
    fidelity_input: str
    fidelity_name: str
    fidelity_values: tuple[int, ...]
    fidelity_divisor: int
    max_resource_attr: str
    elapsed_time_attr: str
    metric: str
    mode: str
    instances: tuple[str, ...]
    selected: tuple[str, ...]
    selection: str
    fixed_inputs: Mapping[str, float] = field(default_factory=dict)
    data_citations: tuple[str, ...] = ()
    VERSION: str = VERSION

    # -- the converter interface ------------------------------------------------------------------

    def datasets(self) -> list[str]:
        """The scenario's instances, in increasing numerical order."""
        return sorted(self.instances, key=int)

    def selected_instances(self) -> list[str]:
        """A small documented subset of :meth:`datasets` (see ``selection``)."""
        return list(self.selected)

    def _check_dataset(self, dataset: str) -> None:
        if dataset not in self.instances:
            raise ValueError(
                f"unknown instance {dataset!r} of {self.FAMILY}; known: {self.datasets()}"
            )

    def inputs(self, dataset: str) -> list[str]:
        """Catalogue paths of the files :meth:`convert` reads (the same for every instance).

        Raises:
            ValueError: If ``dataset`` is not an instance of the scenario.
        """
        self._check_dataset(dataset)
        return [f"{self.FAMILY}/{name}" for name in ("model.onnx", "config_space.json",
                                                     "encoding.json")]

    def space_inputs(self, dataset: str) -> list[str]:
        """Catalogue paths of the files the config space is read from (:meth:`config_space`)."""
        self._check_dataset(dataset)
        return [f"{self.FAMILY}/config_space.json"]

    def config_space(self, dataset: str, files: Mapping[str, str | Path]) -> dict[str, Any]:
        """The config space :meth:`convert` gives ``dataset``, from :meth:`space_inputs` only."""
        (path,) = self.space_inputs(dataset)
        return self.space_of(json.loads(Path(files[path]).read_text()))

    def space_of(self, cs: Mapping[str, Any]) -> dict[str, Any]:
        """Our config space of the scenario's ConfigSpace JSON: hyperparameters without instance,
        fidelity and fixed inputs, plus the largest fidelity as ``max_resource_attr``."""
        excluded = {self.instance_input, self.fidelity_input, *self.fixed_inputs}
        space = config_space_from_json(cs, exclude=excluded)
        space[self.max_resource_attr] = self.fidelity_values[-1]
        return space

    def convert(
        self, dataset: str, files: Mapping[str, str | Path], *, cache_size: int = 16_384
    ) -> YahpoBlackbox:
        """The blackbox of instance ``dataset``.

        Args:
            dataset: One of :meth:`datasets`.
            files: Maps each path of :meth:`inputs` to a local copy.
            cache_size: Curves the blackbox keeps in memory.

        Raises:
            ValueError: If ``dataset`` is unknown, an input is missing, or the files disagree
                with the scenario's definition (instances, hyperparameters, input widths).
        """
        paths = self.inputs(dataset)
        missing = [p for p in paths if p not in files]
        if missing:
            raise ValueError(f"files lacks inputs {missing} of {self.FAMILY}/{dataset}")
        model_path, space_path, encoding_path = (Path(files[p]) for p in paths)
        cs = json.loads(space_path.read_text())
        encoding = json.loads(encoding_path.read_text())
        instances = _choices(cs, self.instance_input)
        if sorted(instances, key=int) != self.datasets():
            raise ValueError(
                f"{space_path}: the instances of {self.instance_input!r} differ from those of "
                f"{self.FAMILY}"
            )
        space = self.space_of(cs)
        layout = ModelLayout(
            instance_input=self.instance_input,
            cat_inputs=self.cat_inputs,
            cont_inputs=self.cont_inputs,
            fidelity_input=self.fidelity_input,
            fidelity_divisor=self.fidelity_divisor,
            fixed_inputs=dict(self.fixed_inputs),
            conditions=conditions_from_json(cs),
        )
        notes = [
            "Deterministic surrogate (num_seeds 1): a model of the data, not the data.",
            f"{self.elapsed_time_attr} is made non-negative and non-decreasing over "
            "fidelities (running maximum) and used as the cumulative elapsed time.",
            *self._notes(),
        ]
        provenance = {
            "source": {**_SOURCE, "folder": self.scenario},
            "licence": _LICENCE,
            "citation": _CITATION,
            "data_citations": list(self.data_citations),
            "input_sha256": {p: sha256_of(files[p]) for p in paths},
            "converter": __name__,
            "converter_version": self.VERSION,
            "scenario": self.scenario,
            "instance": dataset,
            "notes": notes,
        }
        return YahpoBlackbox(
            name=f"{self.FAMILY}-{dataset}",
            scenario=self.scenario,
            instance=dataset,
            model=model_path.read_bytes(),
            encoding=encoding,
            layout=layout,
            config_space=space,
            objective_names=self.targets,
            fidelity_name=self.fidelity_name,
            fidelity_values=np.asarray(self.fidelity_values),
            elapsed_time_attr=self.elapsed_time_attr,
            metric=self.metric,
            mode=self.mode,
            provenance=provenance,
            max_resource_attr=self.max_resource_attr,
            cache_size=cache_size,
        )

    def _notes(self) -> list[str]:
        if self.fidelity_input == "epoch":
            return [
                "YAHPO epoch e is point e - 1 of the LCBench curves; the surrogate was fitted "
                "on curves whose first and last points are known to be unreliable.",
            ]
        fixed = ", ".join(f"{k} = {v:g}" for k, v in self.fixed_inputs.items())
        return [
            f"Resource trainsize r in 1..{self.fidelity_values[-1]} is fed to the model as "
            f"trainsize = r / {self.fidelity_divisor}" + (f"; {fixed} (fixed)." if fixed else "."),
            "timetrain is the predicted time of one fit on the fraction r / 20; as cumulative "
            "elapsed time, continuing a trial from r to r' costs timetrain(r') - timetrain(r) "
            "(Syne Tune's convention), not a refit from scratch.",
        ]


#: Non-degeneracy rule of the selected instances (see :func:`metric_spread`).
MIN_RANGE = 0.02
MAX_NEAR_BEST = 0.5
NEAR_BEST = 0.005


def metric_spread(
    blackbox: YahpoBlackbox, *, num_configs: int = 256, seed: int = 0
) -> tuple[float, float]:
    """How much the default metric varies over random configurations at the largest fidelity.

    Args:
        blackbox: The blackbox (its ``metric`` and ``mode``).
        num_configs: Random configurations, drawn with ``numpy.random.default_rng(seed)``.
        seed: Seed of the draws.

    Returns:
        ``(max - min, fraction of configurations within NEAR_BEST of the best)``. An instance
        is called non-degenerate if the range is at least :data:`MIN_RANGE` and the fraction
        below :data:`MAX_NEAR_BEST`: the metric is not (nearly) constant and not (nearly) all
        configurations are at the optimum.
    """
    rng = np.random.default_rng(seed)
    configs = [sp.sample_config(blackbox.config_space, rng) for _ in range(num_configs)]
    values = blackbox.raw_predictions_at(configs)[:, blackbox.objective_index(blackbox.metric)]
    values = values.astype(np.float64)
    best = values.max() if blackbox.mode == "max" else values.min()
    near = np.abs(values - best) <= NEAR_BEST
    return float(values.max() - values.min()), float(near.mean())


def is_non_degenerate(blackbox: YahpoBlackbox) -> bool:
    """The rule the selected instances satisfy (see :func:`metric_spread`)."""
    spread, near_best = metric_spread(blackbox)
    return spread >= MIN_RANGE and near_best < MAX_NEAR_BEST


def _round(x: float) -> float:
    return float(f"{x:.12g}")


def _choices(cs: Mapping[str, Any], name: str) -> list[str]:
    for hp in cs.get("hyperparameters", []):
        if hp.get("name") == name:
            return [str(c) for c in hp["choices"]]
    raise ValueError(f"config space JSON has no hyperparameter {name!r}")


def config_space_from_json(
    cs: Mapping[str, Any], *, exclude: set[str] | frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Our domains for the hyperparameters of a ConfigSpace JSON (format 0.2) description.

    Args:
        cs: The parsed JSON.
        exclude: Hyperparameters to leave out (instance, fidelities, fixed inputs).

    Returns:
        A flat config space in the file's order; conditions are not represented (see
        :func:`conditions_from_json`).

    Raises:
        ValueError: For a hyperparameter type other than uniform_float, uniform_int and
            categorical, or one with a prior (``probabilities``).
    """
    space: dict[str, Any] = {}
    for hp in cs["hyperparameters"]:
        name, kind = hp["name"], hp["type"]
        if name in exclude:
            continue
        log = bool(hp.get("log", False))
        if kind == "uniform_float":
            lower, upper = _round(hp["lower"]), _round(hp["upper"])
            space[name] = sp.loguniform(lower, upper) if log else sp.uniform(lower, upper)
        elif kind == "uniform_int":
            lower_i, upper_i = int(hp["lower"]), int(hp["upper"])
            space[name] = sp.lograndint(lower_i, upper_i) if log else sp.randint(lower_i, upper_i)
        elif kind == "categorical" and hp.get("probabilities") is None:
            space[name] = sp.choice([str(c) for c in hp["choices"]])
        else:
            raise ValueError(f"hyperparameter {name!r}: unsupported type {kind!r}: {hp}")
    return space


def conditions_from_json(cs: Mapping[str, Any]) -> tuple[Condition, ...]:
    """The ``EQ``/``IN`` conditions of a ConfigSpace JSON description.

    Raises:
        ValueError: For other condition types (conjunctions, comparisons) or forbidden clauses.
    """
    if cs.get("forbiddens"):
        raise ValueError(f"forbidden clauses are not supported: {cs['forbiddens']}")
    out = []
    for c in cs.get("conditions", []):
        if c.get("type") == "EQ":
            values: tuple[Any, ...] = (c["value"],)
        elif c.get("type") == "IN":
            values = tuple(c["values"])
        else:
            raise ValueError(f"unsupported condition {c}")
        out.append(Condition(c["child"], c["parent"], values))
    return tuple(out)


_EPOCHS = tuple(range(1, 53))
_TRAINSIZES = tuple(range(1, 21))

LCBENCH = YahpoScenario(
    FAMILY="yahpo_lcbench",
    scenario="lcbench",
    instance_input="OpenML_task_id",
    cat_inputs=("OpenML_task_id",),
    cont_inputs=(
        "epoch", "batch_size", "learning_rate", "momentum", "weight_decay", "num_layers",
        "max_units", "max_dropout",
    ),
    targets=(
        "time", "val_accuracy", "val_cross_entropy", "val_balanced_accuracy",
        "test_cross_entropy", "test_balanced_accuracy",
    ),
    fidelity_input="epoch",
    fidelity_name="epoch",
    fidelity_values=_EPOCHS,
    fidelity_divisor=1,
    max_resource_attr=EPOCHS,
    elapsed_time_attr="time",
    metric="val_accuracy",
    mode="max",
    instances=_LCBENCH_INSTANCES,
    # Syne Tune's lcbench_selected_datasets (its five most expensive LCBench datasets):
    # covertype, christine, airlines, albert, Fashion-MNIST.
    selected=("7593", "168908", "189354", "189866", "189908"),
    selection=(
        "Syne Tune's selected LCBench datasets (its five most expensive ones), all of which "
        "pass the non-degeneracy rule (is_non_degenerate)"
    ),
    data_citations=_LCBENCH_CITATIONS,
)

RBV2_XGBOOST = YahpoScenario(
    FAMILY="yahpo_rbv2_xgboost",
    scenario="rbv2_xgboost",
    instance_input="task_id",
    cat_inputs=("task_id", "booster", "num.impute.selected.cpo"),
    cont_inputs=(
        "nrounds", "eta", "gamma", "lambda", "alpha", "subsample", "max_depth",
        "min_child_weight", "colsample_bytree", "colsample_bylevel", "rate_drop", "skip_drop",
        "trainsize", "repl",
    ),
    targets=_RBV2_TARGETS,
    fidelity_input="trainsize",
    fidelity_name="trainsize",
    fidelity_values=_TRAINSIZES,
    fidelity_divisor=20,
    fixed_inputs={"repl": 10},
    max_resource_attr=MAX_TRAINSIZE,
    elapsed_time_attr="timetrain",
    metric="f1",
    mode="max",
    instances=_RBV2_XGBOOST_INSTANCES,
    selected=("29", "50", "1479", "1485", "6332", "23517", "40978", "40981", "40994", "41157"),
    selection=(
        "Syne Tune's selected rbv2 xgboost instances for metric f1 (binary tasks, picked by "
        "inspecting HPO runs), all of which pass the non-degeneracy rule (is_non_degenerate): "
        "over 256 random configurations at full trainsize, f1 ranges over at least 0.02 and "
        "fewer than half of the configurations lie within 0.005 of the best"
    ),
    data_citations=_RBV2_CITATIONS,
)

RBV2_RPART = YahpoScenario(
    FAMILY="yahpo_rbv2_rpart",
    scenario="rbv2_rpart",
    instance_input="task_id",
    cat_inputs=("task_id", "num.impute.selected.cpo"),
    cont_inputs=("cp", "maxdepth", "minbucket", "minsplit", "trainsize", "repl"),
    targets=_RBV2_TARGETS,
    fidelity_input="trainsize",
    fidelity_name="trainsize",
    fidelity_values=_TRAINSIZES,
    fidelity_divisor=20,
    fixed_inputs={"repl": 10},
    max_resource_attr=MAX_TRAINSIZE,
    elapsed_time_attr="timetrain",
    metric="f1",
    mode="max",
    instances=_RBV2_RPART_INSTANCES,
    selected=("41157", "41161"),
    selection=(
        "Syne Tune's selected rbv2 rpart instances for metric f1 that pass the non-degeneracy "
        "rule (is_non_degenerate); 1111 (f1 about 0.99 for every configuration) and 1464 (f1 "
        "ranges over 0.015) fail it"
    ),
    data_citations=_RBV2_CITATIONS,
)

IAML_GLMNET = YahpoScenario(
    FAMILY="yahpo_iaml_glmnet",
    scenario="iaml_glmnet",
    instance_input="task_id",
    cat_inputs=("task_id",),
    cont_inputs=("alpha", "s", "trainsize"),
    targets=_IAML_TARGETS,
    fidelity_input="trainsize",
    fidelity_name="trainsize",
    fidelity_values=_TRAINSIZES,
    fidelity_divisor=20,
    max_resource_attr=MAX_TRAINSIZE,
    elapsed_time_attr="timetrain",
    metric="f1",
    mode="max",
    instances=_IAML_INSTANCES,
    selected=("1489",),
    selection=(
        "Syne Tune's selected iaml glmnet instances for metric f1 that pass the "
        "non-degeneracy rule (is_non_degenerate); 1067 fails it (f1 ranges over less than 0.02)"
    ),
)

#: Family -> converter namespace.
SCENARIOS: dict[str, YahpoScenario] = {
    s.FAMILY: s for s in (LCBENCH, RBV2_XGBOOST, RBV2_RPART, IAML_GLMNET)
}

#: Family -> ``"module:attribute"`` of its namespace (for the blackbox repository's registry).
REGISTRY: dict[str, str] = {
    "yahpo_lcbench": f"{__name__}:LCBENCH",
    "yahpo_rbv2_xgboost": f"{__name__}:RBV2_XGBOOST",
    "yahpo_rbv2_rpart": f"{__name__}:RBV2_RPART",
    "yahpo_iaml_glmnet": f"{__name__}:IAML_GLMNET",
}
