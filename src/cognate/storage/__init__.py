"""Storage: the schema, the database runner, migrations and one repository per aggregate."""
