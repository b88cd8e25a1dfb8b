"""Report formats: rich text for people; json, sarif and github for machines."""
