"""The API surface: error classes, message texts and the operation registry."""
