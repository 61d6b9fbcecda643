"""One router module per resource: rounds, uploads, results, admin."""
