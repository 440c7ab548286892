"""The BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005).

While alive, a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; after each
purchase the customer drops out with probability ``p ~ Beta(a, b)``. Each customer is
summarised by ``frequency`` (repeat purchases, x), ``recency`` (time of the last
purchase since the first, t_x) and ``T`` (time since the first purchase).

The log-likelihood (equation 6 of the paper), its gradient and its Hessian are
analytic and vectorised numpy (:mod:`cxloop.predict._bgnbd_likelihood`); the fit
maximises it with damped Newton steps on log-parameters, falling back to L-BFGS-B.
Identical ``(x, t_x, T)`` rows are collapsed into one row with a weight, so a million
customers whose times are counted in days cost about as much as the hundred thousand
distinct histories among them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize, special

from cxloop.domain.errors import CxloopError, InvalidInput
from cxloop.predict._bgnbd_likelihood import Histories, Objective, value_and_gradient

Array = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

#: Bounds on the log of every parameter during the search (e^-30 .. e^30).
LOG_BOUND = 30.0
#: Bound on log a and log b (a, b <= e^12): when customers hardly drop out, the
#: likelihood keeps rising as a and b grow with a / (a + b) fixed, so the maximum lies
#: at infinity; the fit then stops on this bound, where p is in effect one dropout
#: probability a / (a + b) shared by all customers and predictions no longer move.
DROPOUT_LOG_BOUND = 12.0
#: Longest Newton step in any log-parameter (a factor of e^2 on the parameter).
MAX_STEP = 2.0
#: Largest gradient of the mean log-likelihood (in log-parameters) taken as converged.
GRADIENT_TOLERANCE = 1e-7


class ConvergenceError(CxloopError):
    """The optimiser stopped before it found the maximum likelihood."""


@dataclass(frozen=True)
class BgNbdFit:
    """Fitted BG/NBD parameters (time in the unit of the data the fit saw).

    Attributes
    ----------
    r, alpha : float
        Shape and rate of the gamma mixing distribution of purchase rates.
    a, b : float
        Parameters of the beta mixing distribution of drop-out probabilities.
    log_likelihood : float
        Log-likelihood of the data at these parameters (equation 6).
    n_customers : int
        Number of customers the fit saw (the sum of the weights).
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Array:
        """Probability that each customer is still alive at ``T`` (equation 13 of
        Fader, Hardie & Lee 2008, "Computing P(alive) using the BG/NBD model").

        ``P = 1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))``
        """
        x, t_x, age = _as_arrays(frequency, recency, T)
        return np.asarray(special.expit(-self._log_odds_dead(x, t_x, age)), np.float64)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Array:
        """Expected repeat purchases in the next ``t`` periods (equation 10).

        ``E[Y(t) | x, t_x, T] = (a + b + x - 1) / (a - 1)
        * [1 - ((alpha + T) / (alpha + T + t))^(r + x)
        2F1(r + x, b + x; a + b + x - 1; t / (alpha + T + t))] * P(alive)``
        """
        x, t_x, age = _as_arrays(frequency, recency, T)
        horizon = np.asarray(t, dtype=np.float64)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = horizon / (alpha + age + horizon)
        log_hyp = _log_hyp2f1(r + x, b + x, a + b + x - 1, z)
        log_scale = (r + x) * np.log((alpha + age) / (alpha + age + horizon))
        growth = (a + b + x - 1) / (a - 1) * -np.expm1(log_hyp + log_scale)
        return np.asarray(growth * self.p_alive(x, t_x, age), dtype=np.float64)

    def expected_purchases_new(self, t: ArrayLike) -> Array | float:
        """Expected repeat purchases of a new customer in ``(0, t]`` (equation 9).

        ``E[X(t)] = (a + b - 1) / (a - 1)
        * [1 - (alpha / (alpha + t))^r 2F1(r, b; a + b - 1; t / (alpha + t))]``
        """
        horizon = np.asarray(t, dtype=np.float64)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        log_hyp = _log_hyp2f1(r, b, a + b - 1, horizon / (alpha + horizon))
        log_scale = r * np.log(alpha / (alpha + horizon))
        value = (a + b - 1) / (a - 1) * -np.expm1(log_hyp + log_scale)
        return float(value) if value.ndim == 0 else np.asarray(value, np.float64)

    def _log_odds_dead(self, x: Array, t_x: Array, age: Array) -> Array:
        repeat = x > 0
        safe_x = np.where(repeat, x, 1.0)
        log_odds = (
            np.log(self.a)
            - np.log(self.b + safe_x - 1)
            + (self.r + x) * (np.log(self.alpha + age) - np.log(self.alpha + t_x))
        )
        return np.where(repeat, log_odds, -np.inf)


def _log_hyp2f1(a: ArrayLike, b: ArrayLike, c: ArrayLike, z: ArrayLike) -> Array:
    """``log 2F1(a, b; c; z)``, by Euler's transformation where the series overflows."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        direct = np.log(special.hyp2f1(a, b, c, z))
        c_arr = np.asarray(c, dtype=np.float64)
        a_arr, b_arr = np.asarray(a, np.float64), np.asarray(b, np.float64)
        euler = np.log(special.hyp2f1(c_arr - a_arr, c_arr - b_arr, c_arr, z)) + (
            c_arr - a_arr - b_arr
        ) * np.log1p(-np.asarray(z, np.float64))
    return np.asarray(np.where(np.isfinite(direct), direct, euler), dtype=np.float64)


def _as_arrays(*columns: ArrayLike) -> tuple[Array, ...]:
    return tuple(np.asarray(column, dtype=np.float64) for column in columns)


def _require(holds: bool | np.bool_, problem: str) -> None:
    if not holds:
        raise InvalidInput(f"the BG/NBD inputs (frequency, recency, T) {problem}")


def _check(x: Array, t_x: Array, age: Array, weights: Array) -> None:
    lengths = {len(x), len(t_x), len(age), len(weights)}
    _require(len(lengths) == 1 and len(x) > 0, "have different lengths or none")
    everything = np.concatenate([x, t_x, age, weights])
    _require(np.isfinite(everything).all(), "hold a missing or infinite value")
    whole = (x >= 0).all() and (x == np.round(x)).all()
    _require(whole, "hold a frequency that is not a whole number >= 0")
    _require(
        (t_x >= 0).all() and (t_x <= age).all(), "hold a recency below 0 or above T"
    )
    _require(
        (t_x[x == 0] == 0).all(),
        "hold a recency above 0 for a customer with no repeat purchase",
    )
    _require(
        (weights >= 0).all() and weights.sum() > 0,
        "hold a negative weight or no weight at all",
    )
    _require(
        (weights[x > 0] > 0).any(), "hold no repeat purchase: BG/NBD cannot be fitted"
    )


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    weights: ArrayLike | None = None,
) -> BgNbdFit:
    """Fit BG/NBD by maximum likelihood.

    Parameters
    ----------
    frequency, recency, T : array_like
        Repeat purchases, time of the last purchase and age of each customer, all
        in one time unit (weeks in the paper).
    weights : array_like, optional
        How many customers share each row (default one each).

    Returns
    -------
    BgNbdFit
        The parameters, the log-likelihood and the number of customers.

    Raises
    ------
    InvalidInput
        If the inputs are not a valid customer summary.
    ConvergenceError
        If the optimiser fails.
    """
    x, t_x, age = _as_arrays(frequency, recency, T)
    w = np.ones_like(x) if weights is None else np.asarray(weights, np.float64)
    _check(x, t_x, age, w)
    data = Histories.collapse(x, t_x, age, w)
    scale = 10.0 / float(age.max()) if age.max() > 0 else 1.0
    objective = Objective(data.scaled(scale))
    log_params = _maximise(objective)
    r, alpha, a, b = np.exp(log_params)
    params = np.array([r, alpha / scale, a, b])
    log_likelihood, _ = value_and_gradient(params, data)
    fit = BgNbdFit(
        r=float(params[0]),
        alpha=float(params[1]),
        a=float(params[2]),
        b=float(params[3]),
        log_likelihood=log_likelihood,
        n_customers=round(objective.total),
    )
    with np.errstate(all="ignore"):
        usable = np.isfinite(fit.expected_purchases(1.0, x, t_x, age)).all()
    if not usable:
        msg = (
            "the BG/NBD fit found no maximum: purchase rates look the same for every "
            "customer, so the best parameters lie at infinity"
        )
        raise ConvergenceError(msg)
    return fit


def _maximise(objective: Objective) -> Array:
    """Damped Newton steps (analytic Hessian); L-BFGS-B if they do not converge.

    Newton may wander onto the ridge where a and b grow without end; L-BFGS-B then
    starts both from where Newton stopped and from the origin, and the better end wins.
    """
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        point, gradient = _newton(objective, np.zeros(4))
        inside = np.abs(point[2:]).max() <= DROPOUT_LOG_BOUND
        if inside and np.abs(gradient).max() <= GRADIENT_TOLERANCE:
            return point
        starts = [point, np.zeros(4)] if np.isfinite(point).all() else [np.zeros(4)]
        results = [_lbfgs(objective, start) for start in starts]
    good = [
        r for r in results if r.success or np.abs(r.jac).max() <= GRADIENT_TOLERANCE
    ]
    if not good:
        msg = (
            f"the BG/NBD fit found no maximum ({results[0].message}): with few "
            "customers or repeat purchases the best parameters can lie at infinity"
        )
        raise ConvergenceError(msg)
    best = min(good, key=lambda r: float(r.fun))
    return np.asarray(best.x, dtype=np.float64)


def _lbfgs(objective: Objective, start: Array) -> optimize.OptimizeResult:
    return optimize.minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * 2
        + [(-DROPOUT_LOG_BOUND, DROPOUT_LOG_BOUND)] * 2,
        options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10},
    )


def _newton(
    objective: Objective, start: Array, steps: int = 100
) -> tuple[Array, Array]:
    """Minimise with Newton steps, damped (``H + mu I``) until each step lowers the
    objective; stops when the gradient is below :data:`GRADIENT_TOLERANCE`."""
    point, damping = start, 0.0
    value, gradient = objective(point)
    for _ in range(steps):
        if not np.isfinite(value) or np.abs(gradient).max() <= GRADIENT_TOLERANCE:
            break
        try:
            step = _damped_step(objective.hess(point), gradient, damping)
        except np.linalg.LinAlgError:
            break
        candidate = point + step * min(1.0, MAX_STEP / np.abs(step).max())
        new_value, new_gradient = objective(candidate)
        inside = np.abs(candidate).max() <= LOG_BOUND
        if inside and np.isfinite(new_value) and new_value <= value:
            point, value, gradient = candidate, new_value, new_gradient
            damping /= 10
        else:
            damping = max(1e-4, damping * 10)
    return point, gradient


def _damped_step(hess: Array, gradient: Array, damping: float) -> Array:
    """Solve ``(H + mu I) s = -g`` with ``mu >= damping`` large enough for a minimum."""
    lowest = float(np.linalg.eigvalsh(hess)[0])
    shift = max(damping, 1e-8 - lowest if lowest < 1e-8 else 0.0)
    return np.asarray(np.linalg.solve(hess + shift * np.eye(len(gradient)), -gradient))


def sample_bgnbd(
    T: ArrayLike, params: tuple[float, float, float, float], *, rng: np.random.Generator
) -> tuple[Array, Array]:
    """Draw ``(frequency, recency)`` for customers of ages ``T`` from the BG/NBD process.

    Each customer gets ``lambda ~ Gamma(r, 1 / alpha)`` and ``p ~ Beta(a, b)``; repeat
    purchases follow a Poisson process of rate ``lambda`` until ``T``, and after each
    one the customer drops out with probability ``p`` (the process of section 2 of
    the paper, as lifetimes' ``beta_geometric_nbd_model`` draws it).

    Parameters
    ----------
    T : array_like
        Age of each customer (time since the first purchase).
    params : tuple of float
        ``(r, alpha, a, b)``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    tuple of ndarray
        Frequency and recency of each customer.
    """
    r, alpha, a, b = params
    age = np.asarray(T, dtype=np.float64)
    rate = rng.gamma(r, 1.0 / alpha, size=age.shape)
    drop = rng.beta(a, b, size=age.shape)
    frequency, recency = np.zeros_like(age), np.zeros_like(age)
    active = np.flatnonzero(rate > 0)
    while active.size:
        when = recency[active] + rng.exponential(1.0 / rate[active])
        active, when = active[when < age[active]], when[when < age[active]]
        frequency[active] += 1
        recency[active] = when
        active = active[rng.random(active.size) >= drop[active]]
    return frequency, recency
