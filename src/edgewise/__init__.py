"""Edgewise: an orchestrator for network services at the edge."""

__version__ = "0.1.0"
