"""Synthetic people and places: names, UK-style phone numbers, addresses, person ids, beats.

Values look real on purpose, so that a personal-data leak into the lake, a report or an alert is
visible at a glance. None is real: phone numbers come from the ranges Ofcom reserves for drama
(never allocated to anyone), names are common given names and surnames combined at random,
streets are generic. A person is an integer index; everything about them (name, phone, id) is a
pure function of that index and the force, so the same victim has the same id and name in every
record and every snapshot. All functions are vectorised: index arrays in, Arrow strings out.
"""

from __future__ import annotations

import zlib
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


# Given names and surnames in use in England and Wales; a few carry accents or apostrophes so
# that encodings and quoting are exercised.
GIVEN_NAMES = (
    "Oliver", "George", "Harry", "Jack", "Jacob", "Noah", "Charlie", "Muhammad", "Thomas",
    "Oscar", "William", "James", "Leo", "Alfie", "Henry", "Joshua", "Freddie", "Archie",
    "Ethan", "Isaac", "Alexander", "Joseph", "Edward", "Samuel", "Max", "Daniel", "Arthur",
    "Lucas", "Mohammed", "Logan", "Theo", "Harrison", "Benjamin", "Mason", "Sebastian",
    "Finley", "Adam", "Dylan", "Zachary", "Riley", "Liam", "Tyler", "Kai", "Callum", "Connor",
    "Ryan", "Jamie", "Lewis", "Aaron", "Nathan", "Kieran", "Dean", "Wayne", "Gary", "Paul",
    "Mark", "Stephen", "David", "Andrew", "Michael", "Christopher", "Robert", "John", "Peter",
    "Ian", "Kevin", "Darren", "Lee", "Craig", "Sean", "Seán", "Łukasz", "Piotr", "Tomasz",
    "Mihai", "Andrei", "José", "Ahmed", "Ali", "Omar", "Yusuf", "Hamza", "Rahul", "Arjun",
    "Kwame", "Oluwaseun", "Chinedu", "Dmitri",
    "Olivia", "Amelia", "Isla", "Ava", "Emily", "Isabella", "Mia", "Poppy", "Ella", "Lily",
    "Jessica", "Sophie", "Grace", "Evie", "Chloe", "Chloé", "Ruby", "Freya", "Charlotte",
    "Daisy", "Alice", "Sienna", "Phoebe", "Lucy", "Layla", "Zoe", "Zoë", "Holly", "Ellie",
    "Hannah", "Megan", "Lauren", "Rebecca", "Amy", "Laura", "Sarah", "Emma", "Rachel",
    "Nicola", "Claire", "Michelle", "Lisa", "Karen", "Susan", "Julie", "Joanne", "Kelly",
    "Gemma", "Stacey", "Danielle", "Kayleigh", "Siân", "Aoife", "Niamh", "Renée", "Agnieszka",
    "Katarzyna", "Ioana", "Fatima", "Aisha", "Maryam", "Zainab", "Priya", "Ananya", "Amara",
    "Chidinma", "Precious", "Natalia",
)
SURNAMES = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards",
    "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood",
    "Turner", "Martin", "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee", "King",
    "Baker", "Harrison", "Morgan", "Allen", "James", "Scott", "Phillips", "Watson", "Davis",
    "Parker", "Price", "Bennett", "Young", "Griffiths", "Mitchell", "Kelly", "Cook", "Carter",
    "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy", "Miller", "Cox", "Richards",
    "Khan", "Marshall", "Anderson", "Simpson", "Ellis", "Adams", "Singh", "Begum", "Wilkinson",
    "Foster", "Chapman", "Powell", "Webb", "Rogers", "Gray", "Mason", "Ali", "Hunt", "Hussain",
    "Campbell", "Matthews", "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight", "Lloyd",
    "Butler", "Russell", "Barker", "Fisher", "Stevens", "Jenkins", "Murray", "Dixon", "Harvey",
    "O'Brien", "O'Connor", "O'Neill", "McDonald", "MacLeod", "Fitzgerald", "Nowak",
    "Kowalski", "Wiśniewski", "Popescu", "Ionescu", "Okafor", "Adeyemi", "Mensah", "Osei",
    "Ahmed", "Rahman", "Chowdhury", "Sharma", "Kaur", "Gill", "Nguyen", "Chen", "Wong",
    "Da Silva", "Fernández", "Smith-Jones", "Lloyd-Davies", "Ní Bhriain",
)
NICKNAMES = ("Bob", "Jim", "Billy", "Tommo", "Gaz", "Sparky", "Sal", "Bex", "Jo", "Kaz")
STREET_NAMES = (
    "High Street", "Station Road", "Church Lane", "Mill Lane", "Victoria Road", "Green Lane",
    "Manor Road", "Park Road", "Church Street", "London Road", "Queens Road", "New Road",
    "Kings Road", "Grange Road", "School Lane", "The Crescent", "North Street", "Springfield Road",
    "Mill Road", "Albert Road", "Chapel Street", "Windsor Road", "Orchard Close", "Meadow Way",
    "Oak Avenue", "Elm Grove", "Beech Drive", "Acacia Avenue", "Cherry Tree Walk",
    "Nightingale Close", "Priory Road", "Castle Street", "Market Square", "Bridge Street",
    "West Street", "South Street", "East Road", "Hillside", "Broadway", "Riverside",
    "St John's Road", "St Mary's Close", "Fairview Avenue", "Woodland Rise", "Harbour Parade",
    "Canal Walk", "Railway Terrace", "Coronation Street", "Jubilee Close", "Paddock Way",
)
PLACE_PREFIXES = (
    "outside the Co-op, ", "car park of Tesco Express, ", "bus stop near ", "rear of ",
    "junction with ", "alleyway behind ",
)
PLACE_PREFIX_SHARE = 0.15

# Towns and postcode areas of each region (the beat codes are named after the towns).
REGIONS = {
    "kent": (
        ("Maidstone", "ME"), ("Canterbury", "CT"), ("Ashford", "TN"), ("Dartford", "DA"),
        ("Gravesend", "DA"), ("Folkestone", "CT"), ("Dover", "CT"), ("Margate", "CT"),
        ("Ramsgate", "CT"), ("Tonbridge", "TN"), ("Tunbridge Wells", "TN"), ("Sevenoaks", "TN"),
        ("Sittingbourne", "ME"), ("Chatham", "ME"), ("Gillingham", "ME"), ("Whitstable", "CT"),
    ),
    "derbyshire": (
        ("Derby", "DE"), ("Chesterfield", "S"), ("Ilkeston", "DE"), ("Long Eaton", "NG"),
        ("Swadlincote", "DE"), ("Buxton", "SK"), ("Glossop", "SK"), ("Matlock", "DE"),
        ("Belper", "DE"), ("Ripley", "DE"), ("Bolsover", "S"), ("Ashbourne", "DE"),
    ),
    "lincolnshire": (
        ("Lincoln", "LN"), ("Grantham", "NG"), ("Boston", "PE"), ("Spalding", "PE"),
        ("Skegness", "PE"), ("Gainsborough", "DN"), ("Sleaford", "NG"), ("Stamford", "PE"),
        ("Louth", "LN"), ("Mablethorpe", "LN"),
    ),
    "london": (
        ("Westminster", "SW"), ("Camden", "NW"), ("Hackney", "E"), ("Tower Hamlets", "E"),
        ("Southwark", "SE"), ("Lambeth", "SE"), ("Lewisham", "SE"), ("Croydon", "CR"),
        ("Brent", "NW"), ("Ealing", "W"), ("Haringey", "N"), ("Islington", "N"),
        ("Newham", "E"), ("Barnet", "N"), ("Wandsworth", "SW"), ("Greenwich", "SE"),
        ("Hounslow", "TW"), ("Enfield", "EN"), ("Bromley", "BR"), ("Hillingdon", "UB"),
    ),
    "west_yorkshire": (
        ("Leeds", "LS"), ("Bradford", "BD"), ("Wakefield", "WF"), ("Huddersfield", "HD"),
        ("Halifax", "HX"), ("Dewsbury", "WF"), ("Keighley", "BD"), ("Batley", "WF"),
        ("Pontefract", "WF"), ("Castleford", "WF"),
    ),
    "generic": (
        ("Northtown", "NT"), ("Southbury", "SB"), ("Eastfield", "EF"), ("Westford", "WF"),
        ("Kingsbridge", "KB"), ("Millbrook", "MB"), ("Ashby Green", "AG"), ("Riverton", "RV"),
    ),
}

# Ofcom's drama number ranges: realistic formats, never connected to a real subscriber.
PHONE_PREFIXES = (
    "07700 900", "07700 900", "07700 900", "07700 900", "+44 7700 900",  # mobiles (most)
    "01632 960", "020 7946 0", "0113 496 0", "0161 496 0", "0121 496 0", "0117 496 0",
)
PERSON_ID_PREFIX = "P"
PERSON_ID_BASE = 10_000_000  # ids look like P10482913



def digits_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers, as an (n, width) ASCII matrix."""
    values = np.asarray(values)
    small = len(values) == 0 or int(values.max()) < 2**32
    remaining = values.astype(np.uint32 if small else np.uint64)
    digits = np.empty((width, len(remaining)), dtype=np.uint8)  # digit-major: contiguous writes
    for position in range(width - 1, -1, -1):
        quotient = remaining // 10
        digits[position] = remaining - quotient * 10
        remaining = quotient
    digits += 48
    return np.ascontiguousarray(digits.T)


def strings_from_matrix(matrix: np.ndarray) -> pa.Array:
    """An Arrow string array from an (n, width) ASCII matrix, one fixed-width string per row,
    without a Python object per value (this is what keeps formatting millions of references
    and timestamps fast)."""
    count, width = matrix.shape
    data = np.ascontiguousarray(matrix)
    if count * width < 2**31:
        offsets = np.arange(0, (count + 1) * width, width, dtype=np.int32)
        return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(data))
    offsets = np.arange(0, (count + 1) * width, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(data))


def padded_numbers(values: np.ndarray, width: int) -> pa.Array:
    """Decimal strings zero-padded to at least `width` digits. Each value's string depends on
    the value alone (a number too long for `width` keeps all its digits), so the same record
    has the same reference whichever other records it is formatted with."""
    values = np.asarray(values, dtype=np.int64)
    if len(values) == 0 or int(values.max()) < 10**width:
        return strings_from_matrix(digits_matrix(values, width))
    return pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width, "0")


def force_salt(force: str) -> np.uint64:
    """A per-force constant so two forces' populations do not share names and numbers."""
    return np.uint64(zlib.crc32(force.encode("utf-8")))


def mix(values: np.ndarray, salt: np.uint64, stream: int) -> np.ndarray:
    """A fixed pseudo-random 64-bit mix of each value (splitmix64): a person's attributes are a
    pure function of their index, without a random generator."""
    with np.errstate(over="ignore"):
        z = values.astype(np.uint64) + salt * np.uint64(0x9E3779B97F4A7C15) + np.uint64(
            (stream + 1) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        )
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _index(hashed: np.ndarray, size: int) -> np.ndarray:
    """Map 64-bit hashes onto 0..size-1 (multiply-shift: faster than a modulo)."""
    return ((hashed >> np.uint64(32)) * np.uint64(size) >> np.uint64(32)).astype(np.int64)


def _pick(choices: tuple[str, ...] | pa.Array, hashed: np.ndarray) -> pa.Array:
    table = choices if isinstance(choices, pa.Array) else pa.array(choices, type=pa.string())
    return table.take(_index(hashed, len(table)))


@lru_cache(maxsize=None)
def _full_names() -> pa.Array:
    return pa.array([f"{given} {surname}" for given in GIVEN_NAMES for surname in SURNAMES],
                    type=pa.string())


@lru_cache(maxsize=None)
def _phone_table() -> pa.Array:
    return pa.array([f"{prefix}{number:03d}" for prefix in PHONE_PREFIXES for number in range(1000)],
                    type=pa.string())


@lru_cache(maxsize=None)
def _street_lines() -> pa.Array:
    numbered = [f"{number} {street}" for street in STREET_NAMES for number in range(1, 181)]
    described = [f"{prefix}{street}" for street in STREET_NAMES for prefix in PLACE_PREFIXES]
    # Described places ("rear of Mill Road") make up about PLACE_PREFIX_SHARE of locations.
    repeat = max(1, round(PLACE_PREFIX_SHARE * len(numbered) / (1 - PLACE_PREFIX_SHARE) / len(described)))
    return pa.array(numbered + described * repeat, type=pa.string())


_INWARD_CODES = tuple(
    f"{digit}{first}{second}"
    for digit in range(10)
    for first in "ABDEFGHJLNPQRSTUWXYZ"[::3]
    for second in "ABDEFGHJLNPQRSTUWXYZ"[1::2]
)  # inward halves of postcodes (no C I K M O V); 10 x 7 x 10 variants


@lru_cache(maxsize=None)
def _localities(region: str) -> tuple[pa.Array, int]:
    """`Town, AA12 3BC` for each town x postcode district x inward code, town-major."""
    per_town = 20 * len(_INWARD_CODES)
    values = [
        f"{town}, {area}{district} {inward}"
        for town, area in region_towns(region)
        for district in range(1, 21)
        for inward in _INWARD_CODES
    ]
    return pa.array(values, type=pa.string()), per_town


def person_ids(people: np.ndarray) -> pa.Array:
    """Source-system person ids (`P` + 8 digits): personal data, pseudonymised at extraction."""
    numbers = np.asarray(people, dtype=np.int64) + PERSON_ID_BASE
    return pc.binary_join_element_wise(PERSON_ID_PREFIX, padded_numbers(numbers, 8), "")


def person_names(people: np.ndarray, salt: np.uint64) -> pa.Array:
    return _pick(_full_names(), mix(people, salt, 1))


def nicknamed(names: pa.Array, people: np.ndarray, salt: np.uint64, chosen: np.ndarray) -> pa.Array:
    """`Robert Smith` -> `Robert "Bob" Smith` where chosen: a value that needs CSV quoting."""
    if not chosen.any():
        return names
    rows = np.flatnonzero(chosen)
    full = _index(mix(people[rows], salt, 1), len(GIVEN_NAMES) * len(SURNAMES))
    given = np.asarray(GIVEN_NAMES, dtype=object)[full // len(SURNAMES)]
    surname = np.asarray(SURNAMES, dtype=object)[full % len(SURNAMES)]
    nickname = np.asarray(NICKNAMES, dtype=object)[_index(mix(people[rows], salt, 3), len(NICKNAMES))]
    values = [f'{g} "{n}" {s}' for g, n, s in zip(given, nickname, surname)]
    mask = np.zeros(len(names), dtype=bool)
    mask[rows] = True
    replacement = np.zeros(len(names), dtype=np.int64)
    replacement[rows] = np.arange(len(rows))
    return pc.if_else(pa.array(mask), pa.array(values, type=pa.string()).take(replacement), names)


def phone_numbers(people: np.ndarray, salt: np.uint64) -> pa.Array:
    return _pick(_phone_table(), mix(people, salt, 4))


def region_towns(region: str) -> tuple[tuple[str, str], ...]:
    return REGIONS.get(region, REGIONS["generic"])


def beat_codes(force: str, region: str, beats: int) -> tuple[str, ...]:
    """Beat codes `<force>-<TOWN><nn>`, spread over the region's towns."""
    towns = region_towns(region)
    abbreviations: list[str] = []
    for town, _ in towns:
        letters = "".join(ch for ch in town.upper() if ch.isalpha())
        candidate = letters[:3]
        position = 3
        while candidate in abbreviations and position < len(letters):
            candidate = letters[:2] + letters[position]
            position += 1
        abbreviations.append(candidate)
    per_town = -(-beats // len(towns))
    return tuple(
        f"{force}-{abbreviations[beat // per_town]}{beat % per_town + 1:02d}"
        for beat in range(beats)
        if beat // per_town < len(towns)
    )


def beat_towns(region: str, beats: int) -> np.ndarray:
    """Index of the town each beat is in."""
    towns = region_towns(region)
    per_town = -(-beats // len(towns))
    return np.minimum(np.arange(beats) // per_town, len(towns) - 1)


def addresses(places: np.ndarray, beats: np.ndarray, region: str, n_beats: int,
              salt: np.uint64) -> pa.Array:
    """Free-text locations like `14 Mill Lane, Maidstone, ME15 6XY` (commas: quoted in CSV).

    places: an integer per location (a place's attributes are a pure function of it);
    beats: the beat each location is in (fixes the town).
    """
    localities, per_town = _localities(region)
    town = beat_towns(region, n_beats)[beats]
    locality = localities.take(town * per_town + _index(mix(places, salt, 8), per_town))
    street_line = _pick(_street_lines(), mix(places, salt, 7))
    return pc.binary_join_element_wise(street_line, locality, ", ")
