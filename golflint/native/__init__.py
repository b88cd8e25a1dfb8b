"""Native (C/C++/CUDA) code: parsing with tree-sitter and the evaluation-integrity checks on it."""
