"""组织生活会 (domain.md rule 6): the steps before it tracked per member, the meeting's own minutes, the committee's view."""
