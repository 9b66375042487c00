"""Intake integrity: the checks that make "every row read" mean every physical record.

``encoding`` decides how a CSV's bytes become text without guessing, ``physical`` accounts
for every physical line of a CSV against what the fast parser returned, and ``workbook``
reads every sheet of an XLSX (hidden ones too) without trusting its declared size.
"""
