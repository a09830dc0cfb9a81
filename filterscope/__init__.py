"""The `filterscope` command: the one place that knows both the API and the worker."""
