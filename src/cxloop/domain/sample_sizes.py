"""Sample sizes: how many responses an experiment or a check needs before it can tell.

>>> sample_size_proportions(0.10, 0.02)
3841
"""

from __future__ import annotations

import math
from statistics import NormalDist

from cxloop.domain.errors import InvalidInput

_NORMAL = NormalDist()


def _z(q: float) -> float:
    return _NORMAL.inv_cdf(q)


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        msg = f"alpha must lie strictly between 0 and 1, not {alpha}"
        raise InvalidInput(msg)


def _z_sum(alpha: float, power: float) -> float:
    _check_alpha(alpha)
    if not 0.0 < power < 1.0:
        msg = f"power must lie strictly between 0 and 1, not {power}"
        raise InvalidInput(msg)
    return _z(1 - alpha / 2) + _z(power)


def _positive(name: str, value: float) -> None:
    if not value > 0:
        msg = f"{name} must be positive, not {value}"
        raise InvalidInput(msg)


def sample_size_proportions(
    p_base: float, mde: float, *, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Responses per arm to detect ``p_base → p_base + mde`` (two-sided).

    ``n = [z_{1−α/2}·sqrt(2 p̄ q̄) + z_{power}·sqrt(p₁q₁ + p₂q₂)]² / mde²`` with
    ``p̄ = (p₁ + p₂)/2`` (Fleiss, Levin & Paik, *Statistical Methods for Rates and
    Proportions*, 3rd ed., eq. 4.14, without continuity correction), rounded up.
    """
    p1, p2 = p_base, p_base + mde
    if not (0 < p1 < 1 and 0 < p2 < 1) or mde == 0:
        msg = f"need 0 < p_base, p_base + mde < 1 and mde != 0 (got {p_base}, {mde})"
        raise InvalidInput(msg)
    z_sum = _z_sum(alpha, power)  # validates alpha and power
    pbar = (p1 + p2) / 2
    root = _z(1 - alpha / 2) * math.sqrt(2 * pbar * (1 - pbar)) + (
        z_sum - _z(1 - alpha / 2)
    ) * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(root**2 / mde**2 - 1e-9)


def sample_size_means(
    sd: float, mde: float, *, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Responses per arm to detect a mean difference ``mde`` with common ``sd``.

    ``n = 2·(z_{1−α/2} + z_{power})²·sd² / mde²`` (normal approximation; Chow, Shao &
    Wang, *Sample Size Calculations in Clinical Research*, §3.2.1), rounded up.
    """
    _positive("sd", sd)
    _positive("|mde|", abs(mde))
    return math.ceil(2 * _z_sum(alpha, power) ** 2 * sd**2 / mde**2 - 1e-9)


def sample_size_nps(
    shares: tuple[float, float, float],
    mde_points: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> int:
    """Responses per arm to detect an NPS change of ``mde_points`` (−100..100 scale).

    ``shares`` are the baseline (promoters, passives, detractors); the per-answer
    variance ``v = p + d − (p − d)²`` is taken equal in both arms, so
    ``n = 2·(z_{1−α/2} + z_{power})²·v / (mde_points/100)²``.
    """
    p, pas, d = shares
    if min(shares) < 0 or not math.isclose(p + pas + d, 1.0, abs_tol=1e-6):
        msg = f"shares (promoters, passives, detractors) must be >= 0 and sum to 1: {shares}"
        raise InvalidInput(msg)
    _positive("|mde_points|", abs(mde_points))
    var = max(p + d - (p - d) ** 2, 1e-12)
    return math.ceil(
        2 * _z_sum(alpha, power) ** 2 * var / (mde_points / 100) ** 2 - 1e-9
    )


def responses_needed(
    se_now: float,
    n_now: int,
    target_effect: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> int:
    """How many more responses (on top of ``n_now``) make ``target_effect`` detectable.

    The effect is detectable with the given power when ``se ≤ |target| / (z_{1−α/2} +
    z_{power})``; with ``se`` scaling as ``1/sqrt(n)`` the total needed is ``n_now·(se_now
    / se_needed)²``. Returns 0 when the current data already suffice. ``n_now`` is in
    whatever unit the caller counts (all responses in the comparison, or per arm); the
    answer is in the same unit.

    >>> responses_needed(2.0, 400, 5.0)
    103
    """
    _positive("se_now", se_now)
    _positive("n_now", n_now)
    _positive("|target_effect|", abs(target_effect))
    se_needed = abs(target_effect) / _z_sum(alpha, power)
    total = n_now * (se_now / se_needed) ** 2
    return max(0, math.ceil(total - n_now - 1e-9))
