"""宗地代码 / 不动产单元代码 (GB/T 37346-2019): parsing and validation of parcel and unit codes."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Chongqing's 26 districts and 12 counties (GB/T 2260); a parcel code starts with one of these.
CHONGQING_COUNTIES: dict[str, str] = {
    "500101": "万州区", "500102": "涪陵区", "500103": "渝中区", "500104": "大渡口区",
    "500105": "江北区", "500106": "沙坪坝区", "500107": "九龙坡区", "500108": "南岸区",
    "500109": "北碚区", "500110": "綦江区", "500111": "大足区", "500112": "渝北区",
    "500113": "巴南区", "500114": "黔江区", "500115": "长寿区", "500116": "江津区",
    "500117": "合川区", "500118": "永川区", "500119": "南川区", "500120": "璧山区",
    "500151": "铜梁区", "500152": "潼南区", "500153": "荣昌区", "500154": "开州区",
    "500155": "梁平区", "500156": "武隆区", "500229": "城口县", "500230": "丰都县",
    "500231": "垫江县", "500233": "忠县", "500235": "云阳县", "500236": "奉节县",
    "500237": "巫山县", "500238": "巫溪县", "500240": "石柱土家族自治县",
    "500241": "秀山土家族苗族自治县", "500242": "酉阳土家族苗族自治县",
    "500243": "彭水苗族土家族自治县",
}  # fmt: skip

OWNERSHIP = {"G": "state", "J": "collective", "Z": "undetermined"}
RIGHT_TYPE = {
    "A": "collective_ownership",
    "B": "construction_surface",
    "S": "construction_above",
    "X": "construction_below",
    "C": "homestead",
    "D": "contracted_arable",
    "E": "forest",
    "F": "grassland",
    "H": "sea",
    "G": "island",
    "W": "undetermined",
    "Y": "other",
}
FIXTURE_TYPE = {"F": "building", "L": "forest", "Q": "other", "W": "none"}

COLLECTIVE = "J"  # ownership letter of collective land, the first letter of 宗地特征码
# Patterns, written once: Python and JSON-schema regexes, and the POSIX form for SQL CHECKs.
PARCEL_CODE_PATTERN = r"^\d{12}[A-Z]{2}\d{5}$"
PARCEL_CODE_SQL_PATTERN = "^[0-9]{12}[A-Z]{2}[0-9]{5}$"
VILLAGE_CODE_PATTERN = r"^\d{12}$"  # county (6) + 地籍区 (3) + 地籍子区 (3): a village
VILLAGE_CODE_SQL_PATTERN = "^[0-9]{12}$"

_PARCEL_RE = re.compile(r"^(\d{6})(\d{3})(\d{3})([A-Z]{2})(\d{5})$")
_UNIT_RE = re.compile(r"^(.{19})([A-Z])(\d{8})$")


class CodeError(ValueError):
    """A parcel or unit code that does not follow GB/T 37346-2019."""


@dataclass(frozen=True)
class ParcelCode:
    """A parsed 19-character 宗地代码."""

    code: str
    county: str
    cadastral_district: str
    cadastral_subdistrict: str
    ownership: str  # state / collective / undetermined
    right_type: str
    sequence: int

    @property
    def feature_code(self) -> str:
        """The two-letter 宗地特征码, e.g. JC."""
        return self.code[12:14]


def parse_parcel_code(code: str) -> ParcelCode:
    """Parse and validate a 宗地代码; raises CodeError naming what is wrong."""
    if not isinstance(code, str):
        raise CodeError(f"parcel code must be text, got {type(code).__name__}")
    code = code.strip()
    if len(code) != 19:
        raise CodeError(f"parcel code {code!r} has {len(code)} characters, expected 19")
    m = _PARCEL_RE.match(code)
    if not m:
        raise CodeError(f"parcel code {code!r} must be 12 digits, 2 capital letters, 5 digits")
    county, district, sub, feature, seq = m.groups()
    if county not in CHONGQING_COUNTIES:
        raise CodeError(f"parcel code {code!r}: {county} is not a Chongqing district/county code")
    if feature[0] not in OWNERSHIP:
        raise CodeError(f"parcel code {code!r}: ownership letter {feature[0]!r} not one of G/J/Z")
    if feature[1] not in RIGHT_TYPE:
        raise CodeError(f"parcel code {code!r}: right-type letter {feature[1]!r} is unknown")
    return ParcelCode(
        code=code,
        county=county,
        cadastral_district=district,
        cadastral_subdistrict=sub,
        ownership=OWNERSHIP[feature[0]],
        right_type=RIGHT_TYPE[feature[1]],
        sequence=int(seq),
    )


def is_collective(code: str | None) -> bool:
    """Collectively owned: a parcel code or feature code whose ownership letter is J."""
    if not isinstance(code, str):
        return False
    code = code.strip()
    if len(code) == 19:
        return code[12] == COLLECTIVE
    return len(code) == 2 and code[0] == COLLECTIVE


def village_of(parcel_code: str) -> str:
    """The village code (first 12 characters) of a parcel code."""
    return parcel_code.strip()[:12]


def parse_unit_code(code: str) -> tuple[ParcelCode, str, str]:
    """Parse a 28-character 不动产单元代码 into (parcel code, fixture type, fixture number)."""
    code = code.strip()
    if len(code) != 28:
        raise CodeError(f"unit code {code!r} has {len(code)} characters, expected 28")
    m = _UNIT_RE.match(code)
    if not m or m.group(2) not in FIXTURE_TYPE:
        raise CodeError(
            f"unit code {code!r} must be a parcel code, a fixture letter F/L/Q/W, 8 digits"
        )
    return parse_parcel_code(m.group(1)), FIXTURE_TYPE[m.group(2)], m.group(3)


def make_parcel_code(county: str, district: int, subdistrict: int, feature: str, seq: int) -> str:
    """Compose a valid 宗地代码 (used by the sample generator and tests)."""
    code = f"{county}{district:03d}{subdistrict:03d}{feature}{seq:05d}"
    parse_parcel_code(code)
    return code


def make_unit_code(parcel_code: str, fixture: str = "W", number: int = 0) -> str:
    """Compose a 不动产单元代码 from a parcel code."""
    code = f"{parcel_code}{fixture}{number:08d}"
    parse_unit_code(code)
    return code
