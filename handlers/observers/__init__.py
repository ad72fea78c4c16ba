"""组织生活观察员: assignments, notices, the evaluation form, outcomes, rectification, coverage, records."""
