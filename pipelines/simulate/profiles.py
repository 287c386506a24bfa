"""The simulated force as data: recording-performance profiles, volume presets and the mix of
what people report.

Nothing here is code that decides; everything here is a number someone may want to check or
change. Published figures come from the inspectorate's crime data integrity inspections (see
``../shared/DOMAIN.md``); where a number is an assumption it says so.

Vocabulary used below:

- an *event* is one offence as it really happened: a group (the Home Office crime group), an
  offence code, a number of victims, and the *route* by which it reached the police (a call that
  became an incident, a referral to a public protection team, or another route straight into the
  crime system);
- a *true crime* is one victim of an event: the inspectorate's unit ("one crime per victim");
- the *recording rate* is recorded true crimes / true crimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

VIOLENCE = "VIOLENCE_AGAINST_THE_PERSON"
SEXUAL = "SEXUAL_OFFENCES"
ROBBERY = "ROBBERY"
BURGLARY = "BURGLARY"
VEHICLE = "VEHICLE_OFFENCES"
THEFT = "THEFT"
DAMAGE = "CRIMINAL_DAMAGE_AND_ARSON"
DRUGS = "DRUG_OFFENCES"
WEAPONS = "POSSESSION_OF_WEAPONS"
PUBLIC_ORDER = "PUBLIC_ORDER_OFFENCES"
MISCELLANEOUS = "MISCELLANEOUS_CRIMES_AGAINST_SOCIETY"

# --- Failure modes: how a reported crime goes missing (labelled in the ground truth) ----------
# The first six lose true crimes; LATE_RECORDING records them, but after the 24-hour limit.
DA_CLOSED_AS_DOMESTIC = "da_closed_as_domestic"  # domestic abuse closed PSW-DOMESTIC, no crime
DOWNGRADE = "downgrade"  # crime-coded incident closed (or later re-closed) as a non-crime
ONE_CRIME_FOR_SEVERAL_VICTIMS = "one_crime_for_several_victims"  # rule: one crime per victim
REFERRAL_NOT_RECORDED = "referral_not_recorded"  # public protection referral, no crime
RAPE_NO_CRIME_NO_N100 = "rape_no_crime_no_n100"  # rape report with no crime and no N100
WRONG_CANCELLATION = "wrong_cancellation"  # rape / serious violence cancelled without authority
LATE_RECORDING = "late_recording"  # recorded more than 24 hours after the report

UNRECORDED_FAILURE_MODES = (
    DA_CLOSED_AS_DOMESTIC,
    DOWNGRADE,
    ONE_CRIME_FOR_SEVERAL_VICTIMS,
    REFERRAL_NOT_RECORDED,
    RAPE_NO_CRIME_NO_N100,
    WRONG_CANCELLATION,
)
FAILURE_MODES = UNRECORDED_FAILURE_MODES + (LATE_RECORDING,)

ROUTES = ("incident", "referral", "other")

# Offences whose cancellation needs the FCR or a designated decision maker (rule 4), besides
# rape: homicide, attempted murder, assault with intent to cause serious harm.
SERIOUS_VIOLENCE_CODES = ("1", "2", "5D")


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


# --- What people report -----------------------------------------------------------------------
# Crime group of the offences behind crime-related calls. Chosen so that, with the referral and
# other-route mixes below in the proportions of the `mid` preset, true crimes come out as the
# national mix of DOMAIN.md: violence 39% and sexual offences 6% (together 45%), theft 10%,
# vehicle 6%, burglary 5%, criminal damage 12%, public order 9%, drugs 5%, misc 4%, robbery 2%,
# weapons 2%.
INCIDENT_ROUTE_GROUP_MIX = _frozen(
    {
        VIOLENCE: 47.5,
        SEXUAL: 4.65,
        ROBBERY: 2.8,
        BURGLARY: 7.0,
        VEHICLE: 5.9,
        THEFT: 6.0,
        DAMAGE: 14.0,
        DRUGS: 1.2,
        WEAPONS: 0.9,
        PUBLIC_ORDER: 8.8,
        MISCELLANEOUS: 1.3,
    }
)
# Offences disclosed by referrals to public protection teams: mostly violence (much of it
# domestic abuse or child cruelty) and sexual offences.
REFERRAL_ROUTE_GROUP_MIX = _frozen({VIOLENCE: 50.0, SEXUAL: 45.0, MISCELLANEOUS: 5.0})
# Crimes recorded with no incident and no referral: online crime reports keyed straight into
# the crime system, offences found by officers (drugs, weapons), shoplifting reported in bulk.
OTHER_ROUTE_GROUP_MIX = _frozen(
    {
        VIOLENCE: 10.0,
        THEFT: 25.0,
        DRUGS: 18.0,
        WEAPONS: 6.0,
        PUBLIC_ORDER: 12.0,
        MISCELLANEOUS: 12.0,
        DAMAGE: 9.0,
        VEHICLE: 8.0,
    }
)

# Offence code within its group (relative weights; codes from ho_offence_codes.csv).
OFFENCE_WEIGHTS = _frozen(
    {
        VIOLENCE: {"1": 0.15, "2": 0.4, "3B": 5, "5D": 3, "8N": 24, "105A": 33,
                   "8L": 14, "8Q": 5, "8U": 8, "106": 0.5},
        SEXUAL: {"19C": 22, "19D": 8, "19F": 2, "19G": 2, "17A": 6, "20A": 35,
                 "22B": 12, "88E": 13},
        ROBBERY: {"34A": 12, "34B": 88},
        BURGLARY: {"28E": 65, "30C": 35},
        VEHICLE: {"37": 3, "45": 50, "48": 30, "126": 17},
        THEFT: {"39": 12, "44": 13, "46": 40, "49": 35},
        DAMAGE: {"58A": 30, "58C": 35, "58D": 30, "56A": 1, "56B": 4},
        DRUGS: {"92A": 20, "92D": 55, "92E": 25},
        WEAPONS: {"10A": 8, "10D": 92},
        PUBLIC_ORDER: {"9A": 80, "8M": 14, "62A": 6},
        MISCELLANEOUS: {"54": 25, "83": 35, "802": 40},
    }
)

# The opening code a call taker gives a call about each offence (its crime_group_hint in
# incident_codes.csv matches the offence's group). Domestic violence opens as CR-DAVIOL.
OFFENCE_INCIDENT_CODE = _frozen(
    {
        "1": "CR-VIOL", "2": "CR-VIOL", "3B": "CR-THREAT", "5D": "CR-VIOL", "8N": "CR-VIOL",
        "105A": "CR-VIOL", "8L": "CR-HARASS", "8Q": "CR-HARASS", "8U": "CR-HARASS",
        "106": "CR-VIOL",
        "19C": "CR-RAPE", "19D": "CR-RAPE", "19F": "CR-RAPE", "19G": "CR-RAPE",
        "17A": "CR-SEXUAL", "20A": "CR-SEXUAL", "22B": "CR-SEXUAL", "88E": "CR-SEXUAL",
        "34A": "CR-ROBBERY", "34B": "CR-ROBBERY",
        "28E": "CR-BURGRES", "30C": "CR-BURGBUS",
        "37": "CR-VEHICLE", "45": "CR-VEHICLE", "48": "CR-VEHICLE", "126": "CR-VEHICLE",
        "39": "CR-THEFT", "44": "CR-THEFT", "46": "CR-SHOP", "49": "CR-THEFT",
        "58A": "CR-DAMAGE", "58C": "CR-DAMAGE", "58D": "CR-DAMAGE", "56A": "CR-ARSON",
        "56B": "CR-ARSON",
        "92A": "CR-DRUGS", "92D": "CR-DRUGS", "92E": "CR-DRUGS",
        "10A": "CR-WEAPON", "10D": "CR-WEAPON",
        "9A": "CR-PUBORD", "8M": "CR-PUBORD", "62A": "CR-PUBORD",
        "54": "CR-OTHER", "83": "CR-OTHER", "802": "CR-OTHER",
    }
)
DOMESTIC_VIOLENCE_INCIDENT_CODE = "CR-DAVIOL"
# Offences with a child victim: the incident carries the CHILD qualifier.
CHILD_VICTIM_CODES = ("19D", "19G", "22B")
RACIALLY_AGGRAVATED_CODES = ("8M",)

# Share of events flagged domestic abuse, by group and route. With the mixes above about 9-10%
# of true crimes carry the DA flag (DOMAIN.md: 8-12%).
DOMESTIC_ABUSE_SHARE = _frozen({VIOLENCE: 0.20, SEXUAL: 0.10, DAMAGE: 0.05})
REFERRAL_DOMESTIC_ABUSE_SHARE = _frozen({VIOLENCE: 0.60, SEXUAL: 0.15})
HATE_SHARE = _frozen({VIOLENCE: 0.02, PUBLIC_ORDER: 0.05, DAMAGE: 0.01})

# Incidents with more than one victim (a fight, a family, a group robbed).
MULTI_VICTIM_SHARE = _frozen(
    {VIOLENCE: 0.07, ROBBERY: 0.08, PUBLIC_ORDER: 0.08, SEXUAL: 0.02, BURGLARY: 0.03,
     DAMAGE: 0.02}
)
EXTRA_VICTIMS = (1, 2, 3)
EXTRA_VICTIMS_WEIGHTS = (0.72, 0.20, 0.08)

# Crime-coded calls that, on the evidence, were not crimes (a misunderstanding, a civil matter,
# a hoax). Innocent: an auditor would agree no crime was due.
NOT_A_CRIME_SHARE_OF_CRIME_CODED = 0.12
# Of those, how many get a record then cancelled C2 with authority is a trait of the force
# (`Profile.not_a_crime_recorded_then_cancelled_share`); the rest are closed as a non-crime, and
# reported rapes that were not rapes get an N100 classification instead.
# Repeat calls about the same report (same victim); most are closed ADM-DUPL.
DUPLICATE_CALL_SHARE = 0.04
DUPLICATE_CLOSED_ADM_DUPL_SHARE = 0.7
# Correct handling that still changes a crime record: out-of-area transfers (C1) and a second
# record for the same victim cancelled as a duplicate (C3), occasionally deleted instead.
TRANSFERRED_SHARE = 0.01
DUPLICATE_RECORD_SHARE = 0.01
DUPLICATE_RECORD_DELETED_SHARE = 0.25
# Records deleted at source (created in error): they vanish from later snapshots.
NON_CRIME_INCIDENT_DELETED_SHARE = 0.003
NON_DISCLOSING_REFERRAL_DELETED_SHARE = 0.005
# Non-crime incidents whose closing code is corrected a few days after closure.
NON_CRIME_RECLASSIFIED_SHARE = 0.01
# Downgrades that were first closed with the crime code and re-closed as a non-crime later:
# the incident changes class between snapshots.
DOWNGRADE_RECLASSIFIED_SHARE = 0.2
# Domestic abuse that opened as a domestic incident (with an injury qualifier) rather than
# CR-DAVIOL.
DOMESTIC_OPENED_AS_PSW_SHARE = 0.3
# Rape reports left without a record: share still closed with the crime code CR-RAPE.
RAPE_UNRECORDED_CLOSED_AS_CRIME_SHARE = 0.4
# Road traffic collisions with an injury qualifier: innocent candidates for the worklist.
ROAD_COLLISION_INJURY_SHARE = 0.05

# Opening codes of calls that are not about a crime (relative weights).
NON_CRIME_OPENING_WEIGHTS = _frozen(
    {
        "ASB-PERS": 4, "ASB-NUIS": 8, "ASB-ENV": 2,
        "PSW-CONCERN": 14, "PSW-DOMESTIC": 6, "PSW-MISSING": 4, "PSW-MH": 6, "PSW-SUDDEN": 1,
        "PSW-CHILD": 2, "PSW-CIVIL": 3, "PSW-SUSP": 9, "PSW-ALARM": 4,
        "TR-RTC": 8, "TR-ROAD": 6,
        "ADM-PROP": 4, "ADM-ASSIST": 6, "ADM-HOAX": 2, "ADM-INFO": 6,
        "CR-FRAUD": 2,
    }
)
NON_CRIME_CLOSED_AS_OPENED_SHARE = 0.85
# Closing codes used when a call is closed as something else than it opened as, when a
# crime-coded call is closed as a non-crime (innocent or downgrade: on the face of the log they
# look the same) and when a non-crime closing code is corrected.
NON_CRIME_CLOSING_WEIGHTS = _frozen(
    {"PSW-CONCERN": 30, "ADM-INFO": 25, "PSW-CIVIL": 15, "ASB-PERS": 12, "ADM-HOAX": 3,
     "PSW-SUSP": 10, "ASB-NUIS": 5}
)

CHANNEL_WEIGHTS_CRIME = _frozen(
    {"EMERGENCY_999": 30, "NON_EMERGENCY_101": 40, "ONLINE": 17, "FRONT_COUNTER": 4,
     "OFFICER_GENERATED": 7, "PARTNER_REFERRAL": 2}
)
CHANNEL_WEIGHTS_NON_CRIME = _frozen(
    {"EMERGENCY_999": 22, "NON_EMERGENCY_101": 50, "ONLINE": 10, "FRONT_COUNTER": 3,
     "OFFICER_GENERATED": 13, "PARTNER_REFERRAL": 2}
)
CALLER_IS_VICTIM_SHARE = 0.6
CALLER_PHONE_MISSING_SHARE = 0.08
CALLER_NICKNAME_SHARE = 0.002  # e.g. Robert "Bob" Smith: a name that needs CSV quoting

# Qualifier shares (besides the ones implied by the offence: DA, HATE, CHILD, SEXUAL).
INJURY_SHARE = _frozen({"VIOLENCE_WITH_INJURY": 0.7, "HOMICIDE": 1.0, ROBBERY: 0.2})
WEAPON_SHARE = _frozen({WEAPONS: 0.9, ROBBERY: 0.3, "SERIOUS": 0.4})
SEXUAL_QUALIFIER_SHARE = 0.9
MENTAL_HEALTH_SHARE = 0.04
VULNERABLE_SHARE = 0.03
REPEAT_VICTIM_SHARE = 0.08

# Referrals to public protection teams.
REFERRAL_DISCLOSES_SHARE = 0.55
# How often a team's "discloses an offence" is right is a trait of the force
# (`Profile.referral_disclosure_accuracy`); the rest are innocent candidates on the referrals route.
REFERRAL_OFFENCE_CODE_KNOWN_SHARE = 0.85
REFERRAL_VICTIM_KNOWN_NON_DISCLOSING_SHARE = 0.7
REFERRAL_SUBJECT_NAMED_SHARE = 0.9
REFERRAL_TEAM_NON_DISCLOSING = _frozen(
    {"MISSING_PERSONS": 35, "CHILD_PROTECTION": 30, "ADULT_SAFEGUARDING": 25,
     "DOMESTIC_ABUSE": 10}
)
REFERRAL_AGENCY_BY_TEAM = _frozen(
    {
        "CHILD_PROTECTION": {"CHILDRENS_SOCIAL_CARE": 60, "EDUCATION": 20, "HEALTH": 15,
                             "OTHER": 5},
        "ADULT_SAFEGUARDING": {"ADULT_SOCIAL_CARE": 60, "HEALTH": 30, "OTHER": 10},
        "DOMESTIC_ABUSE": {"OTHER_POLICE_UNIT": 50, "HEALTH": 20, "OTHER": 30},
        "SEXUAL_OFFENCES": {"HEALTH": 40, "OTHER_POLICE_UNIT": 30, "CHILDRENS_SOCIAL_CARE": 20,
                            "OTHER": 10},
        "MISSING_PERSONS": {"CHILDRENS_SOCIAL_CARE": 40, "ADULT_SOCIAL_CARE": 20,
                            "OTHER_POLICE_UNIT": 20, "OTHER": 20},
    }
)

# --- Rhythm -----------------------------------------------------------------------------------
# Share of a day's calls in each local hour (00-23). Quietest before dawn, busiest from late
# afternoon; weekend nights (Saturday and Sunday mornings) busier after midnight.
_WEEKDAY_HOURS = (2.6, 2.0, 1.6, 1.3, 1.1, 1.2, 1.8, 2.9, 4.0, 4.6, 4.9, 5.0,
                  5.1, 5.1, 5.2, 5.5, 5.9, 6.1, 6.0, 5.8, 5.4, 4.9, 4.2, 3.5)
_WEEKEND_HOURS = (4.6, 4.2, 3.6, 2.8, 1.8, 1.3, 1.4, 1.9, 2.8, 3.7, 4.3, 4.7,
                  4.9, 5.0, 5.1, 5.2, 5.4, 5.6, 5.6, 5.5, 5.3, 5.1, 4.8, 4.6)
HOUR_SHARES_WEEKDAY = tuple(share / sum(_WEEKDAY_HOURS) for share in _WEEKDAY_HOURS)
HOUR_SHARES_WEEKEND = tuple(share / sum(_WEEKEND_HOURS) for share in _WEEKEND_HOURS)
# Referrals arrive in office hours.
_OFFICE_HOURS = (0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.3, 1.5, 6.0, 10.0, 11.0, 11.0,
                 9.0, 10.0, 11.0, 10.5, 9.0, 5.0, 2.0, 1.0, 0.7, 0.5, 0.4, 0.3)
HOUR_SHARES_OFFICE = tuple(share / sum(_OFFICE_HOURS) for share in _OFFICE_HOURS)
# Relative volume by weekday (Monday first), mean 1; office work by weekday likewise.
_WEEKDAY_VOLUME = (0.98, 0.95, 0.95, 0.98, 1.06, 1.08, 1.00)
WEEKDAY_VOLUME = tuple(v * 7 / sum(_WEEKDAY_VOLUME) for v in _WEEKDAY_VOLUME)
_WEEKDAY_OFFICE = (1.3, 1.25, 1.2, 1.2, 1.15, 0.45, 0.45)
WEEKDAY_OFFICE = tuple(v * 7 / sum(_WEEKDAY_OFFICE) for v in _WEEKDAY_OFFICE)
# Seasonal swing: summer busier than winter (peak around day 196, mid-July).
SEASONAL_AMPLITUDE = 0.08
SEASONAL_PEAK_DAY_OF_YEAR = 196

# --- Timing of what happens after a report (hours unless stated) ------------------------------
RECORDING_DELAY_MEDIAN_HOURS = 3.0
RECORDING_DELAY_SIGMA = 0.9
RECORDING_DELAY_MAX_HOURS = 23.5  # recorded in time: inside the 24-hour rule
LATE_DELAY_MEDIAN_DAYS = 3.0
LATE_DELAY_SIGMA = 0.8
LATE_DELAY_MAX_DAYS = 40
INCIDENT_DURATION_MEDIAN_HOURS = 2.5
INCIDENT_DURATION_SIGMA = 1.1
LONG_OPEN_SHARE = 0.03  # incidents left open for days
LONG_OPEN_DAYS = (2, 25)
CANCELLATION_AFTER_DAYS = (1, 30)
RECLASSIFICATION_AFTER_DAYS = (1, 10)
DELETION_AFTER_DAYS = (1, 20)
DUPLICATE_CALL_AFTER_MINUTES = (2, 240)
# No record changes later than this after its report: a snapshot's content depends only on the
# reports of the LIFECYCLE_DAYS before its window, so any range of snapshots is reproducible.
LIFECYCLE_DAYS = 90


# --- Recording performance --------------------------------------------------------------------
@dataclass(frozen=True)
class Profile:
    """How well a force records crime.

    recording_rate: true recording rate overall (recorded true crimes / true crimes).
    group_rates: published rates for some crime groups; the other groups share the remaining
        unrecorded crimes in proportion to their volume times GROUP_UNRECORDED_RISK.
    late_share: share of recorded events recorded more than 24 hours after the report.
    route_risk: relative chance that an event on each route is among the unrecorded ones.
    domestic_abuse_risk: the same for domestic abuse events (multiplies route_risk).
    failure_weights: relative weight of each way of losing a crime, among those possible for an
        event (a referral can only be left unrecorded or wrongly cancelled, for example).
    region: which towns and postcodes the synthetic addresses use.
    """

    name: str
    description: str
    recording_rate: float
    group_rates: Mapping[str, float] = field(default_factory=dict)
    late_share: float = 0.06
    route_risk: Mapping[str, float] = field(
        default_factory=lambda: {"incident": 1.0, "referral": 1.0, "other": 1.0}
    )
    domestic_abuse_risk: float = 1.0
    failure_weights: Mapping[str, float] = field(
        default_factory=lambda: {
            DA_CLOSED_AS_DOMESTIC: 4,
            DOWNGRADE: 3,
            ONE_CRIME_FOR_SEVERAL_VICTIMS: 4,
            REFERRAL_NOT_RECORDED: 4,
            RAPE_NO_CRIME_NO_N100: 3,
            WRONG_CANCELLATION: 3,
        }
    )
    # A force that follows the standard records a crime-coded report on the victim's account and
    # cancels it (C2) when verifiable information shows no crime; a force that does not closes
    # it as a non-crime, and on the face of the log that looks like a downgrade. So this share is
    # what separates a force's screened rate from its true rate.
    not_a_crime_recorded_then_cancelled_share: float = 0.15
    # Share of referrals marked as disclosing an offence that truly did: trained public-protection
    # teams assess better, and the screened referrals route carries the rest as false positives.
    referral_disclosure_accuracy: float = 0.95
    region: str = "generic"
    source: str = ""


# Relative chance of a crime of each group going unrecorded, used to spread the unrecorded
# crimes a profile does not pin down (assumption, shaped on the 2014 national audit: violence,
# sexual offences and public order worst; burglary, vehicle crime, drugs best).
GROUP_UNRECORDED_RISK = _frozen(
    {
        VIOLENCE: 1.3, SEXUAL: 1.2, ROBBERY: 0.7, BURGLARY: 0.4, VEHICLE: 0.4, THEFT: 0.6,
        DAMAGE: 0.9, DRUGS: 0.3, WEAPONS: 0.3, PUBLIC_ORDER: 1.5, MISCELLANEOUS: 0.8,
    }
)

P_DA, P_DOWNGRADE, P_ONE, P_REFERRAL, P_RAPE, P_CANCEL = UNRECORDED_FAILURE_MODES

_PUBLISHED = {
        profile.name: profile
        for profile in (
            Profile(
                name="kent-2017",
                description="Kent 2017: 1 in 6 crimes unrecorded; public protection referrals "
                "and domestic abuse often not recorded",
                recording_rate=0.836,
                # Sexual offences: assumption (not published with the headline figures).
                group_rates={VIOLENCE: 0.792, SEXUAL: 0.80},
                late_share=0.10,
                route_risk={"incident": 1.0, "referral": 2.0, "other": 1.0},
                domestic_abuse_risk=1.5,
                # Domestic abuse closed as "domestic incident, no crime" was a finding.
                failure_weights={
                    P_DA: 8, P_DOWNGRADE: 3, P_ONE: 4, P_REFERRAL: 4, P_RAPE: 3, P_CANCEL: 3,
                },
                region="kent",
                source="HMICFRS crime data integrity inspection of Kent Police, 2017",
            ),
            Profile(
                name="kent-2018",
                description="Kent 2018: after daily scrutiny, 96.6% recorded",
                recording_rate=0.966,
                group_rates={SEXUAL: 0.985},
                late_share=0.04,
                not_a_crime_recorded_then_cancelled_share=0.85,
                referral_disclosure_accuracy=0.99,
                region="kent",
                source="HMICFRS crime data integrity re-inspection of Kent Police, 2018",
            ),
            Profile(
                name="derbyshire-2018",
                description="Derbyshire 2018: about a third of crimes unrecorded",
                recording_rate=0.653,
                group_rates={VIOLENCE: 0.566},
                late_share=0.12,
                route_risk={"incident": 1.0, "referral": 1.5, "other": 1.0},
                domestic_abuse_risk=1.3,
                region="derbyshire",
                source="HMICFRS crime data integrity inspection of Derbyshire Constabulary, 2018",
            ),
            Profile(
                name="lincolnshire-2018",
                description="Lincolnshire 2018: 81.2% recorded",
                recording_rate=0.812,
                group_rates={VIOLENCE: 0.727},
                late_share=0.10,
                route_risk={"incident": 1.0, "referral": 1.5, "other": 1.0},
                domestic_abuse_risk=1.3,
                region="lincolnshire",
                source="HMICFRS crime data integrity inspection of Lincolnshire Police, 2018",
            ),
            Profile(
                name="met-2018",
                description="Metropolitan Police 2018: 89.5% recorded",
                recording_rate=0.895,
                late_share=0.06,
                route_risk={"incident": 1.0, "referral": 1.2, "other": 1.0},
                region="london",
                source="HMICFRS crime data integrity inspection of the Metropolitan Police "
                "Service, 2018",
            ),
            Profile(
                name="west-yorkshire-2018",
                description="West Yorkshire 2018: 94.6% recorded",
                recording_rate=0.946,
                late_share=0.05,
                not_a_crime_recorded_then_cancelled_share=0.6,
                region="west_yorkshire",
                source="HMICFRS crime data integrity inspection of West Yorkshire Police, 2018",
            ),
            Profile(
                name="outstanding",
                description="An outstanding force: about 99% recorded (passes a 5% unrecorded "
                "gate)",
                recording_rate=0.99,
                late_share=0.02,
                not_a_crime_recorded_then_cancelled_share=0.95,
                referral_disclosure_accuracy=0.995,
                region="generic",
                source="assumption",
            ),
        )
}
# Aliases: another name for a profile, generating exactly the same force (worlds are seeded by
# the profile's own name).
PROFILE_ALIASES: Mapping[str, str] = _frozen({"demo": "kent-2017"})
PROFILES: Mapping[str, Profile] = _frozen(
    {**_PUBLISHED, **{alias: _PUBLISHED[name] for alias, name in PROFILE_ALIASES.items()}}
)


def resolve_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"unknown simulation profile {name!r}; known: {', '.join(sorted(PROFILES))}")
    return PROFILES[name]


# --- Volumes ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class VolumePreset:
    """Yearly volumes of a force, before `scale`.

    incidents_per_year: incidents created in call handling.
    crime_related_share: share of incidents about a (possible) crime, duplicates included.
    referrals_per_year: referrals received by public protection teams.
    other_route_crimes_per_year: true crimes reaching the crime system with no incident and no
        referral.
    people: size of the synthetic population victims and callers are drawn from.
    beats: number of beats (policing areas).
    """

    name: str
    incidents_per_year: float
    crime_related_share: float
    referrals_per_year: float
    other_route_crimes_per_year: float
    people: int
    beats: int


PRESETS: Mapping[str, VolumePreset] = _frozen(
    {
        # Kent-like (DOMAIN.md): 600k incidents, ~20% crime-related, 150-180k true crimes.
        "mid": VolumePreset("mid", 600_000, 0.20, 18_000, 35_000, 1_500_000, 120),
        # Metropolitan-like: about 4M incidents and 900k true crimes a year.
        "large": VolumePreset("large", 4_000_000, 0.20, 90_000, 130_000, 9_000_000, 600),
    }
)


def resolve_preset(name: str) -> VolumePreset:
    if name not in PRESETS:
        raise ValueError(f"unknown volume preset {name!r}; known: {', '.join(sorted(PRESETS))}")
    return PRESETS[name]
