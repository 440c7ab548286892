"""The JSON REST API under ``/api/v1`` (documented at ``/docs``)."""
