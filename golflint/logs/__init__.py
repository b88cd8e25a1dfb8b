"""Train-log parsing (tolerant of the formats real submissions print) and seed statistics."""
