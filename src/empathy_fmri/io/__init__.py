"""Files: BIDS names, readers and writers, and atomic writes."""
