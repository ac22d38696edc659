"""Real-time policy at the site (docs/realtime-policy.md): the rules of the desired state's
`policy_rules` evaluated every second on local telemetry, without the central. `evaluate` is
pure (telemetry in, rule states, actions and events out); the linux driver applies the actions
(drivers/linux/rtpolicy.py) and the controller puts the events in its outbox."""
