"""The BG/NBD log-likelihood with its analytic gradient and Hessian (private).

Per customer (equation 6 of Fader, Hardie & Lee 2005),
``LL = A1 + A2 + log(exp(A3) + [x > 0] exp(A4))`` with
``A1 = ln G(r + x) - ln G(r) + r ln alpha``,
``A2 = ln G(a + b) + ln G(b + x) - ln G(b) - ln G(a + b + x)``,
``A3 = -(r + x) ln(alpha + T)`` and ``A4 = ln a - ln(b + x - 1) - (r + x) ln(alpha + t_x)``.

With ``w3, w4`` the softmax weights of ``A3, A4``, the log term has gradient
``w3 dA3 + w4 dA4`` and Hessian ``w3 d2A3 + w4 d2A4 + w3 w4 (dA3 - dA4)(dA3 - dA4)'``.
Sums over customers are weighted sums over distinct histories; the gamma-function
terms are computed once per distinct x. Sums use ``einsum``, not BLAS, whose thread
pool stalls when the cores are busy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Histories:
    """Distinct ``(x, t_x, T)`` rows with weights, and the distinct x and T values."""

    x: Array
    t_x: Array
    age: Array
    weights: Array
    x_values: Array
    x_index: npt.NDArray[np.intp]
    x_weights: Array
    age_values: Array
    age_index: npt.NDArray[np.intp]

    @classmethod
    def collapse(cls, x: Array, t_x: Array, age: Array, weights: Array) -> Histories:
        """Merge identical rows, adding up their weights (hashing, no sort)."""
        group, first = _group_codes(x, t_x, age)
        summed = np.bincount(group, weights=weights, minlength=len(first)).astype(
            np.float64
        )
        x, t_x, age = x[first], t_x[first], age[first]
        x_values, x_index = np.unique(x, return_inverse=True)
        x_weights = np.bincount(
            x_index, weights=summed, minlength=len(x_values)
        ).astype(np.float64)
        age_values, age_index = np.unique(age, return_inverse=True)
        return cls(
            x, t_x, age, summed, x_values, x_index, x_weights, age_values, age_index
        )

    def scaled(self, factor: float) -> Histories:
        """The same histories with every time multiplied by ``factor``."""
        return Histories(
            self.x,
            self.t_x * factor,
            self.age * factor,
            self.weights,
            self.x_values,
            self.x_index,
            self.x_weights,
            self.age_values * factor,
            self.age_index,
        )


def _group_codes(*columns: Array) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """A group number for each row (equal rows, equal number) and each group's first row."""
    codes, size = np.zeros(len(columns[0]), dtype=np.int64), 1
    for column in columns:
        column_codes, uniques = pd.factorize(column)
        codes, groups = pd.factorize(codes * len(uniques) + column_codes)
        size = len(groups)
    first = np.full(size, len(codes), dtype=np.intp)
    np.minimum.at(first, codes, np.arange(len(codes)))
    return codes.astype(np.intp), first


def _dot(weights: Array, values: Array) -> float:
    return float(np.einsum("i,i->", weights, values))


@dataclass(frozen=True)
class _Terms:
    """Per-history pieces shared by the value, the gradient and the Hessian."""

    rx: Array
    alpha_age: Array
    alpha_tx: Array
    log_age: Array
    log_tx: Array
    safe_b: Array
    mix: Array
    w4: Array


def _terms(params: Array, data: Histories) -> _Terms:
    r, alpha, a, b = params
    x, repeat = data.x, data.x > 0
    rx = r + x
    alpha_age = (alpha + data.age_values)[data.age_index]
    alpha_tx = alpha + data.t_x
    log_age, log_tx = np.log(alpha_age), np.log(alpha_tx)
    safe_b = np.where(repeat, b + x - 1, 1.0)
    gap = np.where(
        repeat, np.log(a) - np.log(safe_b) - rx * (log_tx - log_age), -np.inf
    )
    mix = -rx * log_age + np.maximum(gap, 0.0) + np.log1p(np.exp(-np.abs(gap)))
    w4 = special.expit(gap)
    return _Terms(rx, alpha_age, alpha_tx, log_age, log_tx, safe_b, mix, w4)


def _per_x(function: Callable[[Array], Array], params: Array, data: Histories) -> Array:
    """``sum_i w_i f(r + x_i), f(b + x_i), f(a + b + x_i)`` for a gamma-type ``f``."""
    r, _, a, b = params
    xv = data.x_values
    values = function(np.stack([r + xv, b + xv, a + b + xv]))
    return np.asarray(np.einsum("ki,i->k", values, data.x_weights))


def value_and_gradient(
    params: Array, data: Histories, terms: _Terms | None = None
) -> tuple[float, Array]:
    """Weighted log-likelihood and its gradient in ``(r, alpha, a, b)``."""
    r, alpha, a, b = params
    t, w = terms or _terms(params, data), data.weights
    total = float(w.sum())
    gammas = _per_x(special.gammaln, params, data)
    constant = (
        -special.gammaln(r)
        + r * np.log(alpha)
        + special.gammaln(a + b)
        - special.gammaln(b)
    )
    value = gammas[0] + gammas[1] - gammas[2] + _dot(w, t.mix) + constant * total
    dig = special.digamma
    sums = _per_x(dig, params, data)
    w3 = 1.0 - t.w4
    grad = np.array(
        [
            sums[0]
            - total * (dig(r) - np.log(alpha))
            - _dot(w, w3 * t.log_age + t.w4 * t.log_tx),
            total * r / alpha - _dot(w, t.rx * (w3 / t.alpha_age + t.w4 / t.alpha_tx)),
            total * dig(a + b) - sums[2] + _dot(w, t.w4) / a,
            total * (dig(a + b) - dig(b))
            + sums[1]
            - sums[2]
            - _dot(w, t.w4 / t.safe_b),
        ]
    )
    return float(value), grad


def _trigamma(z: Array | float) -> Array:
    return np.asarray(special.polygamma(1, z), dtype=np.float64)


def hessian(params: Array, data: Histories, terms: _Terms | None = None) -> Array:
    """Hessian of the weighted log-likelihood in ``(r, alpha, a, b)``."""
    r, alpha, a, b = params
    t, w = terms or _terms(params, data), data.weights
    total = float(w.sum())
    trigammas = _per_x(_trigamma, params, data)
    tri = _trigamma
    w3, w4 = 1.0 - t.w4, t.w4
    diff = np.stack(
        [
            t.log_tx - t.log_age,
            t.rx / t.alpha_tx - t.rx / t.alpha_age,
            np.full_like(w4, -1.0 / a),
            1.0 / t.safe_b,
        ]
    )
    h = np.einsum("ki,i,li->kl", diff, w * w3 * w4, diff)
    h[0, 1] += -_dot(w, w3 / t.alpha_age + w4 / t.alpha_tx) + total / alpha
    h[1, 1] += _dot(w, t.rx * (w3 / t.alpha_age**2 + w4 / t.alpha_tx**2))
    h[1, 1] -= total * r / alpha**2
    h[2, 2] += -_dot(w, w4) / a**2
    h[3, 3] += _dot(w, w4 / t.safe_b**2)
    h[0, 0] += trigammas[0] - total * tri(r)
    ab = total * tri(a + b) - trigammas[2]
    h[2, 2] += ab
    h[2, 3] += ab
    h[3, 3] += ab + trigammas[1] - total * tri(b)
    h[1, 0], h[3, 2] = h[0, 1], h[2, 3]
    return np.asarray(h)


class Objective:
    """Minus the mean log-likelihood in log-parameters, for ``scipy.optimize``.

    Keeps the pieces of the last point it was called at, which is where the
    optimiser next asks for the Hessian.
    """

    def __init__(self, data: Histories) -> None:
        self.data = data
        self.total = float(data.weights.sum())
        self._last: tuple[Array, float, Array, _Terms] | None = None

    def _point(self, log_params: Array) -> tuple[float, Array, _Terms]:
        last = self._last
        if last is not None and np.array_equal(last[0], log_params):
            return last[1], last[2], last[3]
        params = np.exp(log_params)
        terms = _terms(params, self.data)
        value, grad = value_and_gradient(params, self.data, terms)
        self._last = (np.array(log_params), value, grad, terms)
        return value, grad, terms

    def __call__(self, log_params: Array) -> tuple[float, Array]:
        value, grad, _ = self._point(log_params)
        return -value / self.total, -grad * np.exp(log_params) / self.total

    def hess(self, log_params: Array) -> Array:
        """``d2/dphi_i dphi_j`` with ``phi = ln theta``: chain rule through exp."""
        params = np.exp(log_params)
        _, grad, terms = self._point(log_params)
        h = hessian(params, self.data, terms) * np.outer(params, params)
        h[np.diag_indices(4)] += params * grad
        return np.asarray(-h / self.total)
