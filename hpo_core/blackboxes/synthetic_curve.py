"""The closed-form learning curve behind the synthetic test blackbox.

Kept free of any hpo_core import so that the same formula can be re-implemented verbatim for other
libraries (the throughput benchmark does so) and checked against this one.
"""

from __future__ import annotations

import math

OPTIMIZER_PENALTY = {"sgd": 0.06, "adam": 0.0, "rmsprop": 0.03}


def final_error(
    *, learning_rate: float, num_units: int, dropout: float, optimizer: str, batch_size: int
) -> float:
    """Asymptotic validation error of a configuration (a smooth bowl with one optimum)."""
    return (
        0.05
        + 0.08 * (math.log10(learning_rate) + 2.5) ** 2
        + 0.0125 * (math.log2(num_units) - 7.0) ** 2
        + 0.3 * (dropout - 0.2) ** 2
        + OPTIMIZER_PENALTY[optimizer]
        + 0.005 * (math.log2(batch_size) - 5.0) ** 2
    )


def learning_curve(
    *,
    learning_rate: float,
    num_units: int,
    dropout: float,
    optimizer: str,
    batch_size: int,
    num_epochs: int,
) -> tuple[list[float], list[float]]:
    """Validation error and cumulative elapsed time after each epoch ``1..num_epochs``.

    error(r) = final + amplitude * r ** (-rate): large batches and high dropout start worse but
    the ranking at epoch 1 is not the ranking at the end, so early stopping has something to get
    wrong. Each epoch costs the same time, growing with width and shrinking with batch size.
    """
    final = final_error(
        learning_rate=learning_rate,
        num_units=num_units,
        dropout=dropout,
        optimizer=optimizer,
        batch_size=batch_size,
    )
    amplitude = 0.4 + 0.05 * math.log2(batch_size) + 0.3 * dropout
    rate = 0.3 + 0.5 / (1.0 + 10.0 * abs(math.log10(learning_rate) + 2.5))
    seconds_per_epoch = 1.0 + 2.0 * num_units / 512.0 + 32.0 / batch_size
    errors = [final + amplitude * r ** (-rate) for r in range(1, num_epochs + 1)]
    elapsed = [seconds_per_epoch * r for r in range(1, num_epochs + 1)]
    return errors, elapsed
