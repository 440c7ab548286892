"""The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV:
Using iso-value curves for customer base analysis"; Fader & Hardie's note 025).

A customer's purchases are gamma distributed with shape ``p`` and a scale ``nu`` of
their own, and ``nu ~ Gamma(q, v)`` across customers. Only customers with at least one
repeat purchase inform the fit; their ``monetary_value`` is the mean of the repeat
purchases, as in the BG/NBD summary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize, special

from cxloop.domain.errors import InvalidInput
from cxloop.predict.bgnbd import ConvergenceError

#: The largest gradient (of the mean log-likelihood, per log-parameter) accepted when
#: BFGS stops on "precision loss": near the maximum the mean's rounding noise is about
#: 1e-7 (it differs between CPUs), and 1e-6 moves a parameter by about 1e-6 of itself.
GRADIENT_TOLERANCE = 1e-6

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class GammaGammaFit:
    """Fitted Gamma-Gamma parameters (money in the unit of the data the fit saw).

    Attributes
    ----------
    p : float
        Shape of the gamma distribution of one purchase's value.
    q, v : float
        Shape and rate of the gamma distribution of the scale across customers.
    log_likelihood : float
        Log-likelihood of the mean spends at these parameters.
    n_customers : int
        Number of customers with a repeat purchase that the fit saw.
    """

    p: float
    q: float
    v: float
    log_likelihood: float
    n_customers: int

    def expected_spend(
        self, frequency: npt.ArrayLike, monetary_value: npt.ArrayLike
    ) -> Array:
        """Expected value of a customer's next purchase (equation 5 of note 025).

        ``E[Z | x, m] = (q - 1) / (p x + q - 1) * p v / (q - 1)
        + p x / (p x + q - 1) * m``; a customer with no repeat purchase gets the
        population mean ``p v / (q - 1)``.
        """
        x = np.asarray(frequency, dtype=np.float64)
        m = np.where(x > 0, np.asarray(monetary_value, dtype=np.float64), 0.0)
        weight = self.p * x / (self.p * x + self.q - 1)
        population = self.p * self.v / (self.q - 1)
        return np.asarray((1 - weight) * population + weight * m, dtype=np.float64)


def _log_likelihood(params: Array, x: Array, m: Array) -> tuple[float, Array]:
    """Log-likelihood of the mean spends and its gradient in ``(p, q, v)``."""
    p, q, v = params
    px = p * x
    log_xm_v = np.log(x * m + v)
    per = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_xm_v
    )
    dig_pq = special.digamma(px + q)
    grad = np.array(
        [
            np.sum(
                x * (dig_pq - special.digamma(px) + np.log(m) + np.log(x) - log_xm_v)
            ),
            np.sum(dig_pq - special.digamma(q) + np.log(v) - log_xm_v),
            np.sum(q / v - (px + q) / (x * m + v)),
        ]
    )
    return float(per.sum()), grad


def _objective(log_params: Array, x: Array, m: Array) -> tuple[float, Array]:
    params = np.exp(log_params)
    value, grad = _log_likelihood(params, x, m)
    return -value / len(x), -grad * params / len(x)


def _repeat_customers(
    frequency: npt.ArrayLike, monetary_value: npt.ArrayLike, *, skip_zero_spend: bool
) -> tuple[Array, Array]:
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary_value, dtype=np.float64)
    if x.shape != m.shape or x.ndim != 1:
        raise InvalidInput("frequency and monetary_value must be 1-d and of one length")
    if not np.isfinite(x).all() or (x < 0).any():
        raise InvalidInput("frequency holds a missing, infinite or negative value")
    repeat = x > 0
    if skip_zero_spend:
        repeat &= m != 0
    x, m = x[repeat], m[repeat]
    if len(x) < 2:
        raise InvalidInput(
            "Gamma-Gamma needs at least two customers with a repeat purchase"
        )
    bad = ~np.isfinite(m) | (m <= 0)
    if bad.any():
        msg = (
            f"{int(bad.sum())} customers with repeat purchases have a mean spend that is "
            "missing or not above 0; Gamma-Gamma needs positive spend "
            "(skip_zero_spend=True leaves customers with only free purchases out)"
        )
        raise InvalidInput(msg)
    return x, m


def fit_gamma_gamma(
    frequency: npt.ArrayLike,
    monetary_value: npt.ArrayLike,
    *,
    skip_zero_spend: bool = False,
) -> GammaGammaFit:
    """Fit Gamma-Gamma by maximum likelihood on the customers with ``frequency > 0``.

    Parameters
    ----------
    frequency : array_like
        Repeat purchases of each customer.
    monetary_value : array_like
        Mean value of each customer's repeat purchases (ignored where frequency is 0).
    skip_zero_spend : bool
        Leave out customers whose repeat purchases were all free (mean 0), which the
        gamma distribution cannot hold, instead of refusing them; the fit's
        ``n_customers`` then counts only the customers it used.

    Returns
    -------
    GammaGammaFit
        The parameters, the log-likelihood and the number of customers used.

    Raises
    ------
    InvalidInput
        If fewer than two customers have a repeat purchase, or a mean spend is not
        positive.
    ConvergenceError
        If the optimiser fails.
    """
    x, m = _repeat_customers(frequency, monetary_value, skip_zero_spend=skip_zero_spend)
    scale = float(np.mean(m))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # BFGS: L-BFGS-B's LAPACK calls stall on a busy machine's BLAS threads.
        result = optimize.minimize(
            _objective,
            np.zeros(3),
            args=(x, m / scale),
            jac=True,
            method="BFGS",
            options={"maxiter": 5000, "gtol": 1e-9},
        )
    if not result.success and np.abs(result.jac).max() > GRADIENT_TOLERANCE:
        raise ConvergenceError(f"Gamma-Gamma fit did not converge: {result.message}")
    p, q, v = np.exp(result.x)
    params = np.array([p, q, v * scale])
    log_likelihood, _ = _log_likelihood(params, x, m)
    return GammaGammaFit(float(p), float(q), float(v * scale), log_likelihood, len(x))
