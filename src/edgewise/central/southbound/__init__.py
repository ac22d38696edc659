"""The southbound channel server: enrollment, desired-state long-polls, report intake (mTLS)."""
