"""The admin console at /admin (routes.py): pools, users and their details, and user
actions, behind the admin password; on only when one is configured."""
