"""Byte accounting: exact code and model bytes, codecs, what-ifs. One code path for check and budget."""

# Quantization widths for what-ifs. Defined here, not in quant.py, so the command line can offer them
# without importing numpy at start-up.
QUANT_BITS = {"int8": 8, "int6": 6, "int5": 5, "int4": 4}
