"""Cognate: a server implementing the Amazon Cognito user pools (cognito-idp) API."""

__version__ = "0.1.0"
