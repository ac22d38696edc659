"""Use cases of the central manager: the only layer that reads and writes the store."""
