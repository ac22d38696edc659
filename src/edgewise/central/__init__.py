"""Edgewise central."""
