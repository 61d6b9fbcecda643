"""The coordinator service (FastAPI): thin front end over the matcher library."""
