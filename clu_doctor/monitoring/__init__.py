"""The unattended check, in one place: the run itself, its result, the history of past runs,
acknowledged findings, the node-exporter textfile and the deadline a cron job keeps.
"""
