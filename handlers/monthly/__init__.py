"""月积分: monthly scores and ranking, escalation ladders, the monthly digest and the weekly 待办."""
