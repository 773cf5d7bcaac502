"""Value cleaning shared by every mapper: dates, identifiers, amounts, text, places.

Mappers never parse a date or a SIRET themselves: they call these, so that every format
gets the same rules (dates to UTC, CPV without check digit, SIRET validated...).
"""
