"""Where the grader's jobs run: warm workers on this machine (``local``) or on a Dask cluster (``cluster``)."""
