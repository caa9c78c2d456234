"""The server's web endpoints (everything but the JSON API on `/`)."""
