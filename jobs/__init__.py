"""The jobs process (``python -m paymesh.jobs``): one scheduler, one registry of jobs.

Jobs call RPCs only and never open a database; see main.py for the process, registry.py for the
jobs, runner.py for how a turn runs once across several processes, config.py for the
PAYMESH_JOBS_* variables.
"""
