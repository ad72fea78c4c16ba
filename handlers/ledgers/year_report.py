"""The year-end report to the 党员大会 (seed 001 年底党员大会通报): a branch's year as a .docx, and the committee's roll-up."""

from __future__ import annotations
