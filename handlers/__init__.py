"""Feature handlers: one module per feature, each with a Router and plain use-case functions."""
