"""Improve and prove it: PDCA initiatives, their checks, A/B experiments, control charts."""
