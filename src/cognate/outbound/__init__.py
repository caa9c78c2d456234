"""Calls this server makes to other servers on a user's behalf (federation)."""
