"""The site controller: journal, reconciler, drivers and the uplink to the central manager."""
