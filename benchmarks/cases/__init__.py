"""One module per benchmark case; each ``run(config)`` returns its rows of the table."""
