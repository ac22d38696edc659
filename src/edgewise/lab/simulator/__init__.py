"""The fleet simulator behind `edgewise simulate` and the channel benchmarks: N real site
controllers (sim driver) on the real channel, in worker processes. In the order a run goes:
`run` (one simulation, start to figures), `simulation` (the sites and changes through the API),
`fleet` (the worker processes), `worker` (one of them), `waves` (what became of each change),
`report` (progress bars and figures).
"""
