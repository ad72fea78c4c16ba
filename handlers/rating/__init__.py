"""The branch's yearly rating (issue 19 item 4): proposed from the year's stored scores, observer outcomes and
rectifications with the reasons; confirmed or changed by the committee (handlers/rating/service.py)."""
