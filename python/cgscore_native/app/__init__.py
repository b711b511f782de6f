"""The application layer: the ``cgscore`` command line, file loaders and writers, the report, pruning."""
