"""What is done, and how safely: the tool catalogue, the dispatcher that enforces each
tool's safety class, the read-back of doubtful speech, and the audit log."""
