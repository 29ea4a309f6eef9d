"""The terminal, for a person: the interactive questionnaire and probe progress on stderr."""
