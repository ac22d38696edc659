"""The orchestrator: turns NS lifecycle operations and rollouts into each site's desired state and
follows them to their end from the sites' reports.

    lifecycle, scaling   start operations (instantiate, update, heal, terminate; scale)
    occurrences          the occurrence state machine (retry, rollback, continue, fail, cancel)
    tracker, progress    move operations on from site reports (every replica, on a timer)
    rollouts, waves      an NSD to a fleet, in waves
    placing              where an NS goes (model.placement over the store's sites)
    documents            the sites' desired-state documents: the only writer of revisions
    instances, nsds      NS instances; the parsed NSD models (a cache the process passes in)
    views                what the API shows (typed values, not rows)
"""
