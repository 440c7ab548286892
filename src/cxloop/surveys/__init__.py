"""Surveys: definitions, distribution (links, e-mail, triggers) and responses."""
