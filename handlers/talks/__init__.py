"""谈心谈话 (domain.md rule 8): recording the year's talks and the branch's coverage of the pairs that should talk."""
