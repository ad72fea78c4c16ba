"""督查 and 巡查 (seeds 000, 004): the organisation department's and committees' own checking of branches."""
