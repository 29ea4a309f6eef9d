"""Terminal-facing helpers for the CLI: output modes and the interactive questionnaire."""
