"""Domain services: Cognito's rules, written once, independent of the wire and of SQL."""
