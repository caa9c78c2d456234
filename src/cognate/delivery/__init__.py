"""Delivery of the outbox: email over SMTP, SMS through a pluggable sender, with retries."""
