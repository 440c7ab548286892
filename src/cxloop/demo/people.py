"""The customers of the demo company: names, contact details, regions, tiers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from cxloop.demo import company as co

Ints = npt.NDArray[np.int64]
Strs = npt.NDArray[np.str_]


@dataclass(frozen=True)
class Population:
    """What later stages need to know about each customer (index ``i`` = row ``i``)."""

    ids: Strs
    weight: npt.NDArray[np.float64]
    home_store: Ints
    language: Strs
    tier: Strs
    social: Strs

    def pick(self, rng: np.random.Generator, n: int) -> Ints:
        """``n`` customer indexes, the more active customers more often."""
        return rng.choice(len(self.ids), size=n, p=self.weight)


def _shares(pairs: tuple[tuple[str, float], ...]) -> tuple[list[str], list[float]]:
    names = [name for name, _ in pairs]
    weights = np.array([w for _, w in pairs])
    return names, list(weights / weights.sum())


def _home_stores(rng: np.random.Generator, regions: Strs) -> Ints:
    stores = np.zeros(len(regions), dtype=np.int64)
    for region, _ in co.REGIONS:
        members = np.flatnonzero(regions == region)
        local = [i for i, s in enumerate(co.STORES) if s.region == region]
        weights = np.array([co.STORES[i].weight for i in local])
        stores[members] = rng.choice(
            local, size=len(members), p=weights / weights.sum()
        )
    return stores


def _names(rng: np.random.Generator, english: npt.NDArray[np.bool_]) -> pd.DataFrame:
    """Name, gender and a romanised handle for e-mail addresses."""
    n = len(english)
    surnames = np.array([s for s, _, _ in co.SURNAMES])
    romans = np.array([r for _, r, _ in co.SURNAMES])
    sw = np.array([w for _, _, w in co.SURNAMES])
    si = rng.choice(len(surnames), size=n, p=sw / sw.sum())
    female = rng.random(n) < 0.52
    gi = rng.integers(0, len(co.GIVEN_FEMALE), size=n)
    ei = rng.integers(0, len(co.ENGLISH_FIRST), size=n)
    li = rng.integers(0, len(co.ENGLISH_LAST), size=n)
    rows = []
    for i in range(n):
        if english[i]:
            first, gender = co.ENGLISH_FIRST[ei[i]]
            last = co.ENGLISH_LAST[li[i]]
            rows.append((f"{first} {last}", gender, f"{first}.{last}".lower()))
            continue
        given, roman = (co.GIVEN_FEMALE if female[i] else co.GIVEN_MALE)[gi[i]]
        name = f"{surnames[si[i]]}{given}"
        rows.append((name, "F" if female[i] else "M", f"{roman}.{romans[si[i]]}"))
    return pd.DataFrame(rows, columns=["name", "gender", "handle"])


def _emails(rng: np.random.Generator, handles: pd.Series) -> list[str]:
    """Unique addresses on reserved example domains; about 8 % left empty."""
    n = len(handles)
    domain = rng.integers(0, len(co.EMAIL_DOMAINS), size=n)
    missing = rng.random(n) < 0.08
    shouting = rng.random(n) < 0.03  # mixed case, for normalisation to find
    emails = []
    for i, handle in enumerate(handles):
        address = f"{handle}{i + 1}@{co.EMAIL_DOMAINS[domain[i]]}"
        emails.append("" if missing[i] else address.title() if shouting[i] else address)
    return emails


def _phones(rng: np.random.Generator, n: int) -> list[str]:
    """Unique Taiwan mobile numbers in the forms people type; about 5 % empty."""
    numbers = rng.choice(90_000_000, size=n, replace=False) + 10_000_000
    form = rng.choice(5, size=n, p=[0.45, 0.25, 0.15, 0.10, 0.05])
    phones = []
    for number, f in zip(numbers, form, strict=True):
        d = f"9{number:08d}"
        phones.append(
            (
                f"0{d[:3]}-{d[3:6]}-{d[6:]}",
                f"+886{d}",
                f"0{d}",
                f"+886 {d[:3]} {d[3:6]} {d[6:]}",
                "",
            )[f]
        )
    return phones


def _social_handles(rng: np.random.Generator, handles: pd.Series) -> Strs:
    """Handles on the company's social pages for about 20 %; some typed in capitals."""
    n = len(handles)
    has = rng.random(n) < 0.20
    shouting = rng.random(n) < 0.10
    social = []
    for i, handle in enumerate(handles):
        name = f"@{handle.replace('.', '_')}{i + 1}"
        social.append("" if not has[i] else name.title() if shouting[i] else name)
    return np.array(social)


def _birth_years(rng: np.random.Generator, segments: Strs) -> Ints:
    years = rng.integers(1965, 1998, size=len(segments))
    students = segments == "學生"
    seniors = segments == "銀髮族"
    years[students] = rng.integers(1998, 2008, size=int(students.sum()))
    years[seniors] = rng.integers(1942, 1962, size=int(seniors.sum()))
    return years


def make_customers(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, Population]:
    """The customers frame (importer columns) and the population behind it."""
    ids = np.array([f"C{i + 1:06d}" for i in range(n)])
    activity = rng.gamma(0.9, 1.0, size=n)
    region_names, region_p = _shares(co.REGIONS)
    regions = rng.choice(region_names, size=n, p=region_p)
    english = rng.random(n) < 0.07
    names = _names(rng, english)
    segment_names, segment_p = _shares(co.SEGMENTS)
    segments = rng.choice(segment_names, size=n, p=segment_p)
    rank = np.argsort(np.argsort(-activity)) / n
    cut = np.cumsum([share for _, share in co.TIERS])
    tiers = np.array([t for t, _ in co.TIERS])[np.searchsorted(cut, rank, "right")]
    language = np.where(english, "en", "zh-TW")
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "name": names["name"],
            "email": _emails(rng, names["handle"]),
            "phone": _phones(rng, n),
            "region": regions,
            "segment": segments,
            "language": language,
            "member_tier": tiers,
            "gender": names["gender"],
            "birth_year": _birth_years(rng, segments),
        }
    )
    home_store = _home_stores(rng, regions)
    social = _social_handles(rng, names["handle"])
    frame["social_handle"] = social
    population = Population(
        ids=ids,
        weight=activity / activity.sum(),
        home_store=home_store,
        language=language,
        tier=tiers,
        social=social,
    )
    return frame, population
