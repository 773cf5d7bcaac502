"""Where eForms keeps each field: compiled XPath expressions and element tags.

Paths follow the eForms SDK field definitions (`fields.json`, `xpathRelative`); the business
term of each is named next to it. Deep or rare paths are XPath expressions compiled once here
and evaluated relative to an element already found (the root, a lot, a result), so no step
searches the whole tree. The leaves of small, field-dense blocks (a project, an address, a
period) are read by tag from one walk over the block's children (`read.Children`), which is
several times cheaper than one XPath evaluation per leaf.
"""

from __future__ import annotations

from lxml import etree

from scope_shared.documents.eforms import EXTENSION, NAMESPACES, tag

Element = etree._Element


def xp(path: str) -> etree.XPath:
    return etree.XPath(path, namespaces=NAMESPACES, smart_strings=False)


# Notice root, and its efext:EformsExtension.
NOTICE_TYPE = tag("cbc:NoticeTypeCode")  # BT-02, @listName = BT-03 form type
NOTICE_LANGUAGE = tag("cbc:NoticeLanguageCode")  # BT-702
CONTRACT_FOLDER = tag("cbc:ContractFolderID")  # BT-04
CONTRACTING_PARTY = tag("cac:ContractingParty")
BUYER_PROFILE = tag("cbc:BuyerProfileURI")  # BT-508
PARTY = tag("cac:Party")
PARTY_IDENTIFICATION = tag("cac:PartyIdentification")
PROCEDURE_CODE = tag("cbc:ProcedureCode")  # BT-105
LOT = tag("cac:ProcurementProjectLot")
NOTICE_REFERENCE = tag("cac:NoticeDocumentReference")  # BT-125 in cbc:ID
NOTICE_SUBTYPE = tag("efac:NoticeSubType")
SUBTYPE_CODE = tag("cbc:SubTypeCode")  # OPP-070
ORGANIZATIONS = tag("efac:Organizations")
ORGANIZATION = tag("efac:Organization")
NOTICE_RESULT = tag("efac:NoticeResult")
CHANGES = tag("efac:Changes")
CONTRACT_MODIFICATION = tag("efac:ContractModification")

# Shared leaves.
ID = tag("cbc:ID")
NAME = tag("cbc:Name")  # BT-21, BT-500, BT-734
DESCRIPTION = tag("cbc:Description")  # BT-24, BT-728, BT-540

# cac:ProcurementProject, of the procedure or of a lot.
PROCUREMENT_PROJECT = tag("cac:ProcurementProject")
NATURE = tag("cbc:ProcurementTypeCode")  # BT-23; BT-06 under ADDITIONAL_TYPE
ADDITIONAL_TYPE = tag("cac:ProcurementAdditionalType")
MAIN_CLASSIFICATION = tag("cac:MainCommodityClassification")
ADDITIONAL_CLASSIFICATION = tag("cac:AdditionalCommodityClassification")
CLASSIFICATION_CODE = tag("cbc:ItemClassificationCode")  # BT-262, BT-263
REQUESTED_TOTAL = tag("cac:RequestedTenderTotal")
ESTIMATED_AMOUNT = tag("cbc:EstimatedOverallContractAmount")  # BT-27
REALIZED_LOCATION = tag("cac:RealizedLocation")
PLANNED_PERIOD = tag("cac:PlannedPeriod")

# cac:Address and cac:PostalAddress.
ADDRESS = tag("cac:Address")
STREET = tag("cbc:StreetName")  # BT-5101, BT-510
ADDITIONAL_STREET = tag("cbc:AdditionalStreetName")
ADDRESS_LINE = tag("cac:AddressLine")
LINE = tag("cbc:Line")
CITY = tag("cbc:CityName")  # BT-5131, BT-513
POSTAL_CODE = tag("cbc:PostalZone")  # BT-5121, BT-512
NUTS = tag("cbc:CountrySubentityCode")  # BT-5071, BT-507
COUNTRY = tag("cac:Country")
COUNTRY_CODE = tag("cbc:IdentificationCode")  # BT-5141, BT-514

# cac:PlannedPeriod and the deadline periods.
DURATION = tag("cbc:DurationMeasure")  # BT-36
START_DATE = tag("cbc:StartDate")  # BT-536
END_DATE = tag("cbc:EndDate")  # BT-537, BT-131 date
END_TIME = tag("cbc:EndTime")  # BT-131 time

# cac:ProcurementProjectLot.
TENDERING_PROCESS = tag("cac:TenderingProcess")
TENDERING_TERMS = tag("cac:TenderingTerms")
SUBMISSION_PERIOD = tag("cac:TenderSubmissionDeadlinePeriod")  # BT-131
PARTICIPATION_PERIOD = tag("cac:ParticipationRequestReceptionPeriod")  # BT-1311
INTEREST_PERIOD = xp(f"{EXTENSION}/efac:InterestExpressionReceptionPeriod")  # BT-630
CONTRACTING_SYSTEM = tag("cac:ContractingSystem")
CONTRACTING_SYSTEM_TYPE = tag("cbc:ContractingSystemTypeCode")  # BT-765 (framework-agreement)
DOCUMENTS_URL = xp(
    "cac:CallForTendersDocumentReference/cac:Attachment/cac:ExternalReference/cbc:URI/text()"
)  # BT-15
TENDER_URL = xp("cac:TenderRecipientParty/cbc:EndpointID/text()")  # BT-18
AWARD_CRITERIA = xp("cac:AwardingTerms/cac:AwardingCriterion/cac:SubordinateAwardingCriterion")
SELECTION_CRITERIA = xp(
    f"{EXTENSION}/efac:SelectionCriteria[cbc:Name or cbc:Description]"
)  # BT-747, BT-749, BT-750; most criteria give only their type, which Scope does not keep

# cac:SubordinateAwardingCriterion.
CRITERION_TYPE = tag("cbc:AwardingCriterionTypeCode")  # BT-539
CRITERION_PARAMETER = xp(f"{EXTENSION}/efac:AwardCriterionParameter")  # BT-541, BT-5421
PARAMETER_CODE = tag("efbc:ParameterCode")
PARAMETER_NUMBER = tag("efbc:ParameterNumeric")
