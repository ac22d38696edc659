"""Runs ETSI's SOL005 conformance suites (Robot Framework) against a local Edgewise central.

`run.sh` is the entry point; `driver` starts the central, the sites and the callback server,
creates the resources the suites act on (`fixtures`), and runs robot with the values `plan`
chooses for each suite and test.
"""
