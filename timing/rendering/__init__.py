"""The report as a terminal table, CSV and PNG, with the seeds' reference figures."""
