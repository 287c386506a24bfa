"""The canonical source export contract, version 1, as data.

`../shared/contracts/source-exports.md` is the human text; this module is the same contract in a
form the readers, the validators and the simulator share, so the three cannot drift apart.
Each column says what kind of value it holds and what extraction does with it:

- ``text`` / ``code`` / ``enum`` / ``timestamp`` / ``count`` / ``yes_no`` / ``list``: kept, typed;
- ``person_id`` / ``person_id_list``: replaced by a keyed hash (pseudonymised);
- ``personal``: names, phone numbers, free-text locations: dropped at extraction, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass

CONTRACT_VERSION = 1
LIST_SEPARATOR = "|"
LOCAL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
SOURCE_TIME_ZONE = "Europe/London"

CHANNELS = (
    "EMERGENCY_999",
    "NON_EMERGENCY_101",
    "ONLINE",
    "FRONT_COUNTER",
    "OFFICER_GENERATED",
    "PARTNER_REFERRAL",
)
CRIME_STATUSES = ("RECORDED", "TRANSFERRED", "CANCELLED")
CANCELLATION_AUTHORITIES = ("FCR", "DDM", "SUPERVISOR", "OFFICER")
CRIME_FLAGS = ("DA", "HATE")
SOURCE_AGENCIES = (
    "CHILDRENS_SOCIAL_CARE",
    "ADULT_SOCIAL_CARE",
    "HEALTH",
    "EDUCATION",
    "OTHER_POLICE_UNIT",
    "OTHER",
)
REFERRAL_TEAMS = (
    "CHILD_PROTECTION",
    "ADULT_SAFEGUARDING",
    "DOMESTIC_ABUSE",
    "SEXUAL_OFFENCES",
    "MISSING_PERSONS",
)
FORCE_CODE_PATTERN = r"^[A-Z]{2,5}$"
# reference/cancellation_codes.csv: C1 = "Crime took place outside the force area and was
# transferred". C2-C4 say why a crime was cancelled, so only C1 can go with a transfer.
TRANSFER_CANCELLATION_CODE = "C1"


@dataclass(frozen=True)
class Column:
    """One column of a source export.

    kind: text | timestamp | count | yes_no | enum | code | list | person_id | person_id_list | personal
    allowed: for ``enum`` and ``list`` of enums, the allowed values; for ``code``, the name of the
        reference list (see ``pipelines.reference``) the values must come from.
    """

    name: str
    kind: str
    required: bool
    allowed: tuple[str, ...] | str | None = None

    @property
    def is_personal(self) -> bool:
        return self.kind == "personal"

    @property
    def is_pseudonymised(self) -> bool:
        return self.kind in ("person_id", "person_id_list")

    @property
    def lake_name(self) -> str:
        """The column's name in the lake: pseudonymised ids say so in their name."""
        if self.kind == "person_id":
            return self.name.replace("person_id", "person_key")
        if self.kind == "person_id_list":
            return self.name.replace("person_ids", "person_keys")
        return self.name


@dataclass(frozen=True)
class StatusRule:
    """What ``column`` may hold on a row whose ``status_column`` is ``status``.

    required: the field must not be empty; allowed: the only values it may hold (empty is always
    allowed unless required; ``()`` means it must be empty).
    """

    status_column: str
    status: str
    column: str
    required: bool = False
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class NotBefore:
    """On one row, the date-time ``column`` cannot be earlier than ``earliest``."""

    column: str
    earliest: str


@dataclass(frozen=True)
class SourceContract:
    name: str  # incidents | crimes | referrals
    key: str  # the unique reference column
    columns: tuple[Column, ...]
    # Rules between the fields of one row (checked at extraction: a row breaking one is quarantined).
    status_rules: tuple[StatusRule, ...] = ()
    not_before: tuple[NotBefore, ...] = ()

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns if column.required)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def file_name(self, snapshot_date: str) -> str:
        return f"{self.name}_{snapshot_date}.csv"


INCIDENTS = SourceContract(
    name="incidents",
    key="incident_ref",
    columns=(
        Column("incident_ref", "text", True),
        Column("force_code", "text", True),
        Column("created_at", "timestamp", True),
        Column("channel", "enum", True, CHANNELS),
        Column("opening_code", "code", True, "incident_codes"),
        Column("closing_code", "code", False, "incident_codes"),
        Column("closed_at", "timestamp", False),
        Column("qualifiers", "list", False, "incident_qualifiers"),
        Column("victim_count", "count", True),
        Column("victim_person_ids", "person_id_list", False),
        Column("caller_name", "personal", False),
        Column("caller_phone", "personal", False),
        Column("location_text", "personal", False),
        Column("beat_code", "text", True),
        Column("crime_refs", "list", False),
        Column("updated_at", "timestamp", True),
    ),
)

CRIMES = SourceContract(
    name="crimes",
    key="crime_ref",
    columns=(
        Column("crime_ref", "text", True),
        Column("force_code", "text", True),
        Column("incident_ref", "text", False),
        Column("referral_ref", "text", False),
        Column("reported_at", "timestamp", True),
        Column("recorded_at", "timestamp", True),
        Column("ho_offence_code", "code", True, "ho_offence_codes"),
        Column("status", "enum", True, CRIME_STATUSES),
        Column("cancellation_code", "code", False, "cancellation_codes"),
        Column("cancelled_at", "timestamp", False),
        Column("cancellation_authority", "enum", False, CANCELLATION_AUTHORITIES),
        Column("victim_person_id", "person_id", False),
        Column("victim_name", "personal", False),
        Column("beat_code", "text", True),
        Column("flags", "list", False, CRIME_FLAGS),
        Column("updated_at", "timestamp", True),
    ),
    status_rules=(
        # The contract: "required when status is CANCELLED".
        StatusRule("status", "CANCELLED", "cancellation_code", required=True),
        # The code list: every code says why a crime stopped being recorded here; a crime still
        # recorded has none, a transferred one at most the transfer code.
        StatusRule("status", "RECORDED", "cancellation_code", allowed=()),
        StatusRule("status", "TRANSFERRED", "cancellation_code", allowed=(TRANSFER_CANCELLATION_CODE,)),
    ),
    # A crime is recorded after it is reported: the time to record (the 24-hour rule) is never negative.
    not_before=(NotBefore("recorded_at", "reported_at"),),
)

REFERRALS = SourceContract(
    name="referrals",
    key="referral_ref",
    columns=(
        Column("referral_ref", "text", True),
        Column("force_code", "text", True),
        Column("received_at", "timestamp", True),
        Column("source_agency", "enum", True, SOURCE_AGENCIES),
        Column("team", "enum", True, REFERRAL_TEAMS),
        Column("discloses_offence", "yes_no", True),
        Column("disclosed_offence_code", "code", False, "ho_offence_codes"),
        Column("victim_person_id", "person_id", False),
        Column("subject_name", "personal", False),
        Column("crime_refs", "list", False),
        Column("updated_at", "timestamp", True),
    ),
)

SOURCES: dict[str, SourceContract] = {
    contract.name: contract for contract in (INCIDENTS, CRIMES, REFERRALS)
}
SOURCE_NAMES = tuple(SOURCES)
