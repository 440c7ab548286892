"""cxloop: open-source, self-hosted, closed-loop Customer Experience Management."""

__version__ = "0.1.0"

__all__ = ["__version__"]
