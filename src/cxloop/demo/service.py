"""Demo use cases shared by the CLI and the tests: write the demo CSV files, load them.

``load_demo`` goes through the same importers a user runs (``cxloop import``), so the
demo company also exercises the whole import path.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.demo.generator import KINDS, generate, size_of
from cxloop.domain.errors import Conflict, CxloopError
from cxloop.ingest import service as ingest
from cxloop.ingest.summaries import ImportSummary

#: The login of the demo administrator that ``load_demo`` creates.
DEMO_EMAIL = "demo@cxloop.local"
DEMO_PASSWORD = "cxloop-demo"  # noqa: S105 - a published demo login, not a secret
DEMO_NAME = "Demo Admin"
DEMO_SOURCE = "demo"

#: Called with (step, steps done, steps in all) as loading goes on.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class KindCount:
    """What the importer did with one demo file."""

    kind: str
    read: int
    inserted: int
    duplicate: int
    rejected: int
    customers_created: int = 0


@dataclass(frozen=True)
class DemoSummary:
    """The outcome of :func:`load_demo`."""

    seed: int
    size: str
    counts: list[KindCount] = field(default_factory=list)
    user_created: bool = False
    email: str = DEMO_EMAIL
    password: str = DEMO_PASSWORD
    seconds: float = 0.0

    @property
    def rejected(self) -> int:
        """Rows refused by the importers over every file (0 for a sound generator)."""
        return sum(c.rejected for c in self.counts)


def write_demo(*, out_dir: Path, seed: int = 42, size: str = "full") -> list[Path]:
    """Write the demo company as one UTF-8 CSV file per import kind.

    Parameters
    ----------
    out_dir
        Folder to write ``customers.csv``, ``transactions.csv``, ``feedback.csv``,
        ``interactions.csv`` and ``cases.csv`` to; created when missing.
    seed, size
        As for :func:`cxloop.demo.generator.generate`.

    Returns
    -------
    list of Path
        The files, in the order they must be imported.
    """
    size_of(size)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, frame in generate(seed=seed, size=size).frames().items():
        path = out_dir / f"{kind}.csv"
        frame.to_csv(path, index=False, encoding="utf-8")
        paths.append(path)
    return paths


def load_demo(
    *,
    settings: Settings,
    seed: int = 42,
    size: str = "full",
    progress: Progress | None = None,
) -> DemoSummary:
    """Generate the demo company, import it with source ``demo``, create the demo login.

    Importing is idempotent, so loading twice adds nothing the second time. The demo
    administrator (:data:`DEMO_EMAIL` / :data:`DEMO_PASSWORD`) is left as it is when it
    already exists.
    """
    started = time.perf_counter()
    report = progress or _silent
    steps = len(KINDS) + 2
    report("generate", 0, steps)
    counts = []
    with tempfile.TemporaryDirectory(prefix="cxloop-demo-") as folder:
        paths = write_demo(out_dir=Path(folder), seed=seed, size=size)
        for done, (kind, path) in enumerate(zip(KINDS, paths, strict=True), start=1):
            report(kind, done, steps)
            result = ingest.import_file(
                settings=settings, kind=kind, path=path, source=DEMO_SOURCE
            )
            counts.append(_count(result))
    report("login", steps - 1, steps)
    created = _ensure_demo_user(settings)
    report("done", steps, steps)
    return DemoSummary(
        seed=seed,
        size=size,
        counts=counts,
        user_created=created,
        seconds=time.perf_counter() - started,
    )


def _silent(_step: str, _done: int, _total: int) -> None:
    return None


def _count(result: ImportSummary) -> KindCount:
    """The counts of one import; a demo row the importer refuses is a bug, said loudly."""
    if result.rejected or not result.committed:
        first = "; ".join(
            f"line {r.line} {r.field}: {r.reason}" for r in result.first_rejects
        )
        msg = (
            f"the demo {result.kind} file has {result.rejected} rejected rows: {first}"
        )
        raise CxloopError(msg)
    return KindCount(
        kind=result.kind,
        read=result.rows_read,
        inserted=result.inserted + result.updated,
        duplicate=result.duplicates,
        rejected=result.rejected,
        customers_created=result.customers_created,
    )


def _ensure_demo_user(settings: Settings) -> bool:
    """Create the demo administrator; False when it exists already."""
    try:
        accounts.create_user(
            settings=settings,
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            role="admin",
            name=DEMO_NAME,
        )
    except Conflict:
        return False
    return True


def demo_login_works(*, settings: Settings) -> bool:
    """Whether the published demo login signs in to this store (for ``make run``)."""
    user = accounts.authenticate(
        settings=settings, email=DEMO_EMAIL, password=DEMO_PASSWORD
    )
    return user is not None
