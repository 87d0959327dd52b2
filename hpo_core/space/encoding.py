"""Encoding of whole configurations as vectors in ``[0, 1]^dim``, for model-based searchers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hpo_core.space.configs import check_space, hyperparameters
from hpo_core.space.domains import Domain


class SpaceEncoder:
    """Maps configurations of a space to vectors in ``[0, 1]^dim`` and back.

    Each hyperparameter owns the slice ``slices[name]`` of the vector (one entry, or one per
    category for :class:`Categorical`). Decoding returns full configurations (constants
    included); for discrete spaces ``decode(encode(c)) == c`` exactly.

    Args:
        space: The configuration space.

    Attributes:
        dim: Length of the encoded vectors.
        names: The hyperparameters, in the space's order.
        slices: For each hyperparameter, its slice of the vector.
    """

    def __init__(self, space: Mapping[str, Any]) -> None:
        check_space(space)
        self.space = dict(space)
        self._domains = hyperparameters(space)
        self.names: list[str] = list(self._domains)
        self.slices: dict[str, slice] = {}
        start = 0
        for name, domain in self._domains.items():
            self.slices[name] = slice(start, start + domain.encoded_dim)
            start += domain.encoded_dim
        self.dim: int = start

    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        """``config`` as a vector of shape ``(dim,)``.

        Raises:
            ValueError: If a hyperparameter is missing or outside its domain.
        """
        x = np.empty(self.dim)
        for name, domain in self._domains.items():
            if name not in config:
                raise ValueError(f"config is missing hyperparameter {name!r} (domain {domain!r})")
            try:
                x[self.slices[name]] = domain.encode(config[name])
            except ValueError as err:
                raise ValueError(f"hyperparameter {name!r}: {err}") from None
        return x

    def encode_many(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """``configs`` as an array of shape ``(len(configs), dim)``.

        The array is filled one hyperparameter (block of columns) at a time, by
        :meth:`Domain.encode_array` on the column of its values; row ``i`` is
        ``encode(configs[i])`` (up to the ulp noted there for log-scale domains).

        Raises:
            ValueError: If a config lacks a hyperparameter or has a value outside its domain
                (naming the hyperparameter; with several errors, the first hyperparameter's).
        """
        out = np.empty((len(configs), self.dim))
        for name, domain in self._domains.items():
            try:
                column = [config[name] for config in configs]
            except KeyError:
                raise ValueError(
                    f"config is missing hyperparameter {name!r} (domain {domain!r})"
                ) from None
            try:
                out[:, self.slices[name]] = domain.encode_array(column)
            except ValueError as err:
                raise ValueError(f"hyperparameter {name!r}: {err}") from None
        return out

    def decode(self, x: Any) -> dict[str, Any]:
        """The valid configuration nearest to ``x`` (any real vector of length ``dim``).

        Raises:
            ValueError: If ``x`` has the wrong length or contains NaN.
        """
        arr = np.asarray(x, dtype=float).reshape(-1)
        if arr.shape[0] != self.dim:
            raise ValueError(f"expected a vector of length {self.dim}, got shape {np.shape(x)}")
        return {
            k: v.decode(arr[self.slices[k]]) if isinstance(v, Domain) else v
            for k, v in self.space.items()
        }

    def decode_many(self, xs: Any) -> list[dict[str, Any]]:
        """:meth:`decode` for each row of an array of shape ``(n, dim)``."""
        arr = np.asarray(xs, dtype=float)
        if arr.ndim != 2:
            raise ValueError(f"expected an array of shape (n, {self.dim}), got {arr.shape}")
        return [self.decode(row) for row in arr]
