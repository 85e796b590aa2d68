"""Reference data shipped with the service: ISO 4217 currencies and ISO 3166-1 countries.

Kept in code (not fetched) so that validation is pure and the same on every machine. The
lists change a few times a decade; a change here is a reviewed commit.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["COUNTRIES", "CURRENCIES", "MINOR_UNITS"]

# Circulating ISO 4217 currencies (List One, 2025). Left out on purpose: precious metals
# (XAU, XAG, XPD, XPT), accounting units and bond-market units (XDR, XSU, XUA, XBA-XBD),
# fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW), the test code XTS and XXX
# ("no currency"): none of them is what a customer pays in.
_CIRCULATING = """
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES
KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU
MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON
RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND
TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR
ZMW ZWG
"""

# Withdrawn in the last few years but still found in backfilled history (old events are
# welcome): the Croatian kuna (2023), the old leone, the Zimbabwe dollar, the convertible
# Cuban peso and the Netherlands Antillean guilder (replaced by XCG in 2025).
_RECENTLY_WITHDRAWN = "HRK SLL ZWL CUC ANG"

CURRENCIES: frozenset[str] = frozenset((_CIRCULATING + _RECENTLY_WITHDRAWN).split())

# Digits after the decimal point (ISO 4217 "minor unit"); every other code has 2.
_NO_MINOR_UNIT = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"
_THREE_DIGIT_MINOR_UNIT = "BHD IQD JOD KWD LYD OMR TND"

MINOR_UNITS: MappingProxyType[str, int] = MappingProxyType(
    {code: 0 for code in _NO_MINOR_UNIT.split()}
    | {code: 3 for code in _THREE_DIGIT_MINOR_UNIT.split()}
)

# ISO 3166-1 alpha-2 officially assigned codes, plus XK (Kosovo, user-assigned but used
# by the EU and most carriers). "UK" is exceptionally reserved, not assigned: send "GB".
_ASSIGNED = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
DE DJ DK DM DO DZ
EC EE EG EH ER ES ET
FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
HK HM HN HR HT HU
ID IE IL IM IN IO IQ IR IS IT
JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ
LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ
OM
PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA
RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
UA UG UM US UY UZ
VA VC VE VG VI VN VU
WF WS
YE YT
ZA ZM ZW
"""

COUNTRIES: frozenset[str] = frozenset(_ASSIGNED.split()) | {"XK"}
