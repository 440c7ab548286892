"""Seeding stores with customers and answers for metric tests (ORM + unit of work)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from cxloop.store import tables
from cxloop.store.engine import UnitOfWork


class Seeder:
    """Adds customers and scored answers to a store, one interaction per answer."""

    def __init__(self, engine: Engine) -> None:
        self.uow = UnitOfWork(engine)
        self.customers: dict[str, int] = {}
        self.questions: dict[str, int] = {}
        self._ids = itertools.count(1)

    def customer(self, key: str, **fields: Any) -> int:
        """Create the customer ``key``; ``attributes`` and columns go in ``fields``."""
        with self.uow.session() as session:
            row = tables.Customer(external_id=key, **fields)
            session.add(row)
            session.flush()
            self.customers[key] = row.id
        return row.id

    def update_customer(self, key: str, **fields: Any) -> None:
        with self.uow.session() as session:
            row = session.get(tables.Customer, self.customers[key])
            assert row is not None
            for name, value in fields.items():
                setattr(row, name, value)

    def _question(self, metric: str) -> int:
        if metric not in self.questions:
            with self.uow.session() as session:
                survey = tables.Survey(key=f"survey-{metric}", name=metric)
                session.add(survey)
                session.flush()
                question = tables.Question(
                    survey_id=survey.id, key=metric, metric=metric
                )
                session.add(question)
                session.flush()
                self.questions[metric] = question.id
        return self.questions[metric]

    def answers(
        self,
        metric: str,
        values: Iterable[float],
        *,
        at: datetime,
        customer: str | None = None,
        **fields: Any,
    ) -> None:
        """One answer per value, each on its own interaction at ``at``."""
        question = self._question(metric)
        customer_id = self.customers[customer] if customer else None
        source = fields.pop("source", "test")
        with self.uow.session() as session:
            for value in values:
                interaction = tables.Interaction(
                    customer_id=customer_id,
                    occurred_at=at,
                    kind="survey_response",
                    source=source,
                    external_id=f"x{next(self._ids)}",
                    **fields,
                )
                session.add(interaction)
                session.flush()
                session.add(
                    tables.Answer(
                        interaction_id=interaction.id,
                        question_id=question,
                        metric=metric,
                        value=value,
                    )
                )
