"""Byte accounting: exact code and model bytes, codecs, what-ifs. One code path for check and budget."""
