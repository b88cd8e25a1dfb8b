"""The code under review: units (files, decoded layers, native siblings), names, suppressions."""
