"""The fleet simulator behind `edgewise simulate` and the channel benchmarks: N real site
controllers (sim driver) on the real channel, in worker processes. `run` is one simulation from
start to figures; `fleet` the worker processes and the changes made to their sites; `worker` one
worker process; `report` the progress bars and figures.
"""
