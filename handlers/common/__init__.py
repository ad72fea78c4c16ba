"""The shared domain toolkit every feature builds on: months and Chinese dates (dates), spreadsheet
cells (cells), who holds which role where (roles), reading for many ids in constant statements
(batches). The working-day calendar is models.workcalendar.

Features import from here; nothing here imports a feature.
"""
