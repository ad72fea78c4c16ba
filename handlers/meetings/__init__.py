"""Meetings: monthly plans, meetings and notices, QR sign-in, leave, 补学 and minutes.

The chat Router is `handlers.meetings.chat.router`; scheduled jobs are in `handlers.meetings.jobs`.
"""
