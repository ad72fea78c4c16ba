"""书记项目 (seed 003): each secretary's project from the library to the year-end review."""
