"""Everything that runs on the agency's machine: read, normalise, key and hash an export."""
