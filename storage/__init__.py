"""The database: schema, migrations and every SQL statement."""
