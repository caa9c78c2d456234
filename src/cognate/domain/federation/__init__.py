"""Federation: external identity providers, account links, client ID metadata documents
and token exchange."""
