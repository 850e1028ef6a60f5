"""The in-memory steps of a study, shared by the workflow jobs and the replicate studies."""
