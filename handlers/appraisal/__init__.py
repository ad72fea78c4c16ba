"""民主评议党员 (domain.md rule 7): self-assessment, ballots during a window, the count, proposed and decided grades."""
