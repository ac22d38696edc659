"""The demo behind `edgewise demo`: a central, the sample catalog, N site controllers as
processes, the vCPE NSD instantiated on all of them and real traffic through every site. In the
order a run goes: `run` (the demo, start to end), `sites` (created, enrolled, run as processes,
stopped), `sitelab` (each site's LAN, WAN and internet namespaces, and the probes), `traffic`
(the flows checked at each site and the results table), `sdwan` (three WAN links at the first
site, `wanworld` their providers), `mixed` (third-party VNFs from SOL004 packages at the first
site, `software` what the site reports of them). `operator` is what the demo works through: the
CLI's console, client and commands, handed in.
"""
