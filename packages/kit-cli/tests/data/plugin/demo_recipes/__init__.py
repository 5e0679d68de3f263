"""A tiny recipe group for the kit-cli tests."""
