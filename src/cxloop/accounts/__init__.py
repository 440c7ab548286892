"""Accounts: people who sign in to the dashboard and keys for the REST API."""
