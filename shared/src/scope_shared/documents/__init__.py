"""Documents as sources publish them, split into one payload per notice.

A BOAMP API page holds many records, a DECP file thousands of contracts, an OCDS package many
releases, a feed many items. The harvester splits what it fetches with these functions, and
`scope normalize` splits the files it is given with the same ones, so both agree on what one
notice is and on its `source_id`. One module per document family.
"""

from scope_shared.documents.base import DocumentItem, OnRejected, RejectedItem

__all__ = ["DocumentItem", "OnRejected", "RejectedItem"]
