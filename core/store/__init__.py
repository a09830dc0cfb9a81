"""Everything Filterscope keeps in Redis, besides RQ's own records: one module per kind of thing,
every key built in `keys`."""
