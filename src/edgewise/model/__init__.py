"""Shared values of the domain (sites, services, desired state): pure, no I/O."""
