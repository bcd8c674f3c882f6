"""Set-ups the test suites share (see registry.py)."""
