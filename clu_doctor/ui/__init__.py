"""The terminal, for a person: the questionnaire, waiting with a countdown, probe progress.

questionnaire.py  asks what the trees still need (q, back, help, groups asked last)
waiting.py        offers to wait until the result can change, and counts down
progress.py       probe progress (and the live listen table) on stderr
"""
