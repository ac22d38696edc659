"""The site's SD-WAN decisions, pure: what the WAN namespace must hold, and which link each
steering policy's traffic takes now."""
