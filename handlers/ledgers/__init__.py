"""台账 (#17): the records inspectors ask for, read for a unit and a period within a console Scope."""
