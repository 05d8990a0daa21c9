"""The offline demo: data it makes, then the whole pipeline."""
