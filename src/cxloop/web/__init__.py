"""The web face of cxloop: dashboard pages (ui/) and the REST API (api/)."""
