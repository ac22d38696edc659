"""The portals: the operator console, customer self-service and the service designer, as
server-rendered pages over the same services and the same tenant scoping as the API (docs/web.md).
"""
