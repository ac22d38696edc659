"""The lab: Edgewise run whole on one machine, to show it and to measure it — the demo (`demo`)
and the fleet simulator (`simulator`), each over a local central (`central`), with the sample
catalog as package data (`samples`) and one error type (`errors`). The CLI's `edgewise demo` and
`edgewise simulate` parse their options and call in here; nothing here imports the CLI.
"""
