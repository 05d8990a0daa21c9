"""Command-line interface (`dfdetect`)."""
