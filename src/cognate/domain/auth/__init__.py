"""Sign-in: flows, challenges, tokens sessions, sign-out and the access-token check."""
