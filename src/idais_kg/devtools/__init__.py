"""Tools for the developers of idais-kg (the layering check); not used by the library or the CLI."""
