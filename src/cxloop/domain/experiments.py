"""Statistics of improvement: effects with confidence intervals, sample sizes, peeking guard.

Every function returns an :class:`EffectEstimate` (the difference *b − a*, or *after −
before*, with its standard error, a ``1 − alpha`` confidence interval and a two-sided
p-value), so initiatives, experiments and monitoring read one shape. The normal quantiles
come from :class:`statistics.NormalDist`; Student's t from SciPy.

>>> r = two_proportion_test(40, 400, 60, 400)
>>> round(r.estimate, 3), r.verdict()
(0.05, 'improved')
>>> sample_size_proportions(0.10, 0.02)
3841
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

from cxloop.domain.errors import InvalidInput
from cxloop.domain.sample_sizes import (
    _check_alpha,
    responses_needed,
    sample_size_means,
    sample_size_nps,
    sample_size_proportions,
)
from cxloop.domain.sequential import (
    SequentialDecision,
    obrien_fleming_spending,
    sequential_boundaries,
    sequential_decision,
)

__all__ = [
    "EffectEstimate",
    "GroupStat",
    "SequentialDecision",
    "before_after",
    "difference_in_differences",
    "difference_of_changes",
    "nps_difference",
    "nps_difference_from_counts",
    "obrien_fleming_spending",
    "responses_needed",
    "sample_size_means",
    "sample_size_nps",
    "sample_size_proportions",
    "sequential_boundaries",
    "sequential_decision",
    "two_proportion_test",
    "welch_test",
    "welch_test_samples",
]

_NORMAL = NormalDist()
VERDICTS = ("improved", "worse", "no_detectable_change")


@dataclass(frozen=True)
class EffectEstimate:
    """An estimated effect (b − a, or after − before) with its uncertainty.

    ``statistic`` is the z (or Welch t) value of the test; ``n`` holds the group sizes in
    the order the function took them; ``method`` names the test.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    n: tuple[int, ...]
    statistic: float = math.nan
    method: str = ""

    @property
    def significant(self) -> bool:
        """Whether ``p_value < alpha``."""
        return bool(self.p_value < self.alpha)

    def verdict(self, target_direction: int = +1) -> str:
        """``improved``, ``worse`` or ``no_detectable_change``.

        ``target_direction`` is +1 when a rise is good (NPS, CSAT, conversion) and −1 when
        a fall is good (CES, handling time).

        >>> before_after(GroupStat(4.0, 0.1, 400), GroupStat(3.5, 0.1, 400)).verdict(-1)
        'improved'
        """
        if target_direction not in (1, -1):
            msg = f"target_direction must be +1 or -1, not {target_direction}"
            raise InvalidInput(msg)
        if not self.significant or self.estimate == 0:
            return "no_detectable_change"
        return "improved" if self.estimate * target_direction > 0 else "worse"


@dataclass(frozen=True)
class GroupStat:
    """A group's metric value, its standard error and the responses behind it."""

    value: float
    se: float
    n: int


def _z(q: float) -> float:
    return _NORMAL.inv_cdf(q)


def _normal_estimate(
    estimate: float, se: float, alpha: float, n: tuple[int, ...], method: str
) -> EffectEstimate:
    """Normal CI ``estimate ± z_{1−α/2}·se`` and p-value ``2·(1 − Φ(|estimate/se|))``."""
    _check_alpha(alpha)
    half = _z(1 - alpha / 2) * se
    if se > 0:
        z = estimate / se
        p = math.erfc(abs(z) / math.sqrt(2.0))
    else:
        z = 0.0 if estimate == 0 else math.copysign(math.inf, estimate)
        p = 1.0 if estimate == 0 else 0.0
    return EffectEstimate(
        estimate, se, estimate - half, estimate + half, p, alpha, n, z, method
    )


def two_proportion_test(
    successes_a: int, n_a: int, successes_b: int, n_b: int, *, alpha: float = 0.05
) -> EffectEstimate:
    """Difference of two proportions ``p_b − p_a``.

    The p-value is the pooled z-test, ``z = (p_b − p_a) / sqrt(p̄(1 − p̄)(1/n_a + 1/n_b))``
    with ``p̄ = (x_a + x_b)/(n_a + n_b)`` (its square is Pearson's chi-square of the 2×2
    table); the interval is the unpooled Wald interval ``(p_b − p_a) ± z_{1−α/2}
    sqrt(p_a q_a/n_a + p_b q_b/n_b)``, and ``se`` is that unpooled error. Reference:
    Agresti, *Categorical Data Analysis* (3rd ed., 2013), §3.1.

    >>> r = two_proportion_test(189, 11034, 104, 11037)
    >>> round(r.estimate, 4), round(r.ci_low, 4), round(r.ci_high, 4)
    (-0.0077, -0.0107, -0.0047)
    """
    for x, n, arm in ((successes_a, n_a, "a"), (successes_b, n_b, "b")):
        if n < 1 or not 0 <= x <= n:
            msg = f"arm {arm}: need 0 <= successes <= n and n >= 1 (got {x} of {n})"
            raise InvalidInput(msg)
    pa, pb = successes_a / n_a, successes_b / n_b
    se = math.sqrt(pa * (1 - pa) / n_a + pb * (1 - pb) / n_b)
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    test = _normal_estimate(pb - pa, se0, alpha, (n_a, n_b), "two_proportion_z")
    ci = _normal_estimate(pb - pa, se, alpha, (n_a, n_b), "two_proportion_z")
    return EffectEstimate(
        pb - pa, se, ci.ci_low, ci.ci_high, test.p_value, alpha, (n_a, n_b),
        test.statistic, "two_proportion_z",
    )  # fmt: skip


def welch_test(
    mean_a: float,
    var_a: float,
    n_a: int,
    mean_b: float,
    var_b: float,
    n_b: int,
    *,
    alpha: float = 0.05,
) -> EffectEstimate:
    """Welch's t-test of ``mean_b − mean_a`` from summary statistics.

    ``se = sqrt(s_a²/n_a + s_b²/n_b)``, ``t = (mean_b − mean_a)/se`` and the
    Welch–Satterthwaite degrees of freedom ``ν = se⁴ / ((s_a²/n_a)²/(n_a − 1) +
    (s_b²/n_b)²/(n_b − 1))``; interval ``± t_{1−α/2, ν}·se``. Reference: Welch (1947),
    *Biometrika* 34, 28–35; the same as ``scipy.stats.ttest_ind(equal_var=False)``.
    """
    from scipy import stats  # a maths library; imported late to keep start-up fast

    _check_alpha(alpha)
    if n_a < 2 or n_b < 2 or var_a < 0 or var_b < 0:
        msg = f"Welch test needs n >= 2 and variances >= 0 in both arms ({n_a}, {n_b})"
        raise InvalidInput(msg)
    wa, wb = var_a / n_a, var_b / n_b
    se = math.sqrt(wa + wb)
    diff = mean_b - mean_a
    if se == 0:
        return _normal_estimate(diff, 0.0, alpha, (n_a, n_b), "welch_t")
    df = (wa + wb) ** 2 / (wa**2 / (n_a - 1) + wb**2 / (n_b - 1))
    t = diff / se
    half = float(stats.t.ppf(1 - alpha / 2, df)) * se
    p = float(2.0 * stats.t.sf(abs(t), df))
    return EffectEstimate(
        diff, se, diff - half, diff + half, p, alpha, (n_a, n_b), t, "welch_t"
    )


def welch_test_samples(
    sample_a: ArrayLike, sample_b: ArrayLike, *, alpha: float = 0.05
) -> EffectEstimate:
    """:func:`welch_test` from raw observations (sample variances with ``ddof=1``)."""
    a = np.asarray(sample_a, dtype=float)
    b = np.asarray(sample_b, dtype=float)
    if a.size < 2 or b.size < 2:
        msg = f"Welch test needs at least 2 values per arm (got {a.size}, {b.size})"
        raise InvalidInput(msg)
    return welch_test(
        float(a.mean()), float(a.var(ddof=1)), int(a.size),
        float(b.mean()), float(b.var(ddof=1)), int(b.size), alpha=alpha,
    )  # fmt: skip


def _nps_counts(scores: ArrayLike, arm: str) -> tuple[int, int, int]:
    s = np.asarray(scores, dtype=float)
    if s.size and (np.isnan(s).any() or s.min() < 0 or s.max() > 10):
        msg = f"arm {arm}: NPS scores must lie in 0-10"
        raise InvalidInput(msg)
    return int((s >= 9).sum()), int(((s > 6) & (s < 9)).sum()), int((s <= 6).sum())


def nps_difference(
    scores_a: ArrayLike,
    scores_b: ArrayLike,
    *,
    alpha: float = 0.05,
    resamples: int = 2000,
    seed: int = 0,
) -> EffectEstimate:
    """NPS of arm b minus NPS of arm a (0-10 scores), in NPS points.

    See :func:`nps_difference_from_counts` for the interval and the p-value.
    """
    return nps_difference_from_counts(
        _nps_counts(scores_a, "a"),
        _nps_counts(scores_b, "b"),
        alpha=alpha,
        resamples=resamples,
        seed=seed,
    )


def nps_difference_from_counts(
    counts_a: tuple[int, int, int],
    counts_b: tuple[int, int, int],
    *,
    alpha: float = 0.05,
    resamples: int = 2000,
    seed: int = 0,
) -> EffectEstimate:
    """NPS difference from (promoters, passives, detractors) counts of each arm.

    Each answer scores +1/0/−1, so ``NPS = 100·(p − d)`` and its variance per answer is
    ``p + d − (p − d)²``. The p-value is the analytic z-test ``Δ / sqrt(v_a/n_a +
    v_b/n_b)``; the interval is a percentile bootstrap: each arm's counts are redrawn as a
    multinomial (n, shares) ``resamples`` times (equivalent to resampling answers with
    replacement, vectorised), and the ``α/2`` and ``1 − α/2`` quantiles of the resampled
    differences bound it. Reference: Efron & Tibshirani, *An Introduction to the
    Bootstrap* (1993), ch. 13.
    """
    _check_alpha(alpha)
    if resamples < 100:
        msg = f"resamples must be at least 100, not {resamples}"
        raise InvalidInput(msg)
    ca, cb = np.asarray(counts_a, dtype=np.int64), np.asarray(counts_b, dtype=np.int64)
    na, nb = int(ca.sum()), int(cb.sum())
    if na < 2 or nb < 2 or (ca < 0).any() or (cb < 0).any():
        msg = f"NPS difference needs at least 2 answers per arm (got {na}, {nb})"
        raise InvalidInput(msg)
    sa, sb = ca / na, cb / nb
    diff = 100.0 * ((sb[0] - sb[2]) - (sa[0] - sa[2]))
    var_a = sa[0] + sa[2] - (sa[0] - sa[2]) ** 2
    var_b = sb[0] + sb[2] - (sb[0] - sb[2]) ** 2
    se = 100.0 * math.sqrt(var_a / na + var_b / nb)
    test = _normal_estimate(float(diff), se, alpha, (na, nb), "nps_bootstrap")
    rng = np.random.default_rng(seed)
    draw_a = rng.multinomial(na, sa, size=resamples)
    draw_b = rng.multinomial(nb, sb, size=resamples)
    boot = 100.0 * (
        (draw_b[:, 0] - draw_b[:, 2]) / nb - (draw_a[:, 0] - draw_a[:, 2]) / na
    )
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return EffectEstimate(
        float(diff), se, float(low), float(high), test.p_value, alpha, (na, nb),
        test.statistic, "nps_bootstrap",
    )  # fmt: skip


def before_after(
    before: GroupStat, after: GroupStat, *, alpha: float = 0.05
) -> EffectEstimate:
    """``after − before`` for two independent samples: ``se = sqrt(se_b² + se_a²)``.

    Normal interval and z-test p-value (large-sample; both values are means or shares of
    many responses).
    """
    se = math.sqrt(before.se**2 + after.se**2)
    return _normal_estimate(
        after.value - before.value, se, alpha, (before.n, after.n), "before_after_z"
    )


def difference_in_differences(
    before_treated: GroupStat,
    after_treated: GroupStat,
    before_control: GroupStat,
    after_control: GroupStat,
    *,
    alpha: float = 0.05,
) -> EffectEstimate:
    """Difference-in-differences ``(after_t − before_t) − (after_c − before_c)``.

    With four independent samples (different respondents in each cell, as in repeated
    surveys) ``se = sqrt(se_bt² + se_at² + se_bc² + se_ac²)``; normal interval and
    z-test. Reference: Card & Krueger (1994), *AER* 84(4), Table 3, where NJ 20.44 →
    21.03 and PA 23.33 → 21.17 give 2.76 FTE employees. When the same units are measured
    twice, use :func:`difference_of_changes` with the standard errors of the changes.

    >>> g = GroupStat
    >>> r = difference_in_differences(g(20.44, .51, 321), g(21.03, .52, 319),
    ...                               g(23.33, 1.35, 78), g(21.17, .94, 77))
    >>> round(r.estimate, 2)
    2.75
    """
    cells = (before_treated, after_treated, before_control, after_control)
    estimate = (after_treated.value - before_treated.value) - (
        after_control.value - before_control.value
    )
    se = math.sqrt(sum(c.se**2 for c in cells))
    return _normal_estimate(estimate, se, alpha, tuple(c.n for c in cells), "did_z")


def difference_of_changes(
    change_treated: GroupStat, change_control: GroupStat, *, alpha: float = 0.05
) -> EffectEstimate:
    """Difference-in-differences from each group's own change (panel data).

    ``estimate = Δ_t − Δ_c``, ``se = sqrt(se(Δ_t)² + se(Δ_c)²)``. Card & Krueger's
    changes 0.59 (0.54) and −2.16 (1.25) give 2.75 (1.36), their Table 3 row 3.
    """
    se = math.sqrt(change_treated.se**2 + change_control.se**2)
    estimate = change_treated.value - change_control.value
    n = (change_treated.n, change_control.n)
    return _normal_estimate(estimate, se, alpha, n, "did_changes_z")
