"""File-in/file-out jobs of the workflow: each reads its inputs, calls the library, writes."""
