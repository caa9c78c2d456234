"""Repositories: SQL for one aggregate each, no policy. Functions take a Connection."""
