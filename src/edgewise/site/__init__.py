"""Edgewise site."""
