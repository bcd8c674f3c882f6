"""Routers per kind of user: operators (health), everyone (the registry), agencies, employers, auditors."""
