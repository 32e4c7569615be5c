"""Stock land (渝府发〔2025〕16号 measure 10): rules and calculators over registered rights.

Each concern is a check of registered rules (landmarket.rules) with its numbers in the policy layer
2025-11-23_stock-land-measure-10: `idle` (闲置土地, 53号令), `transfer` (转移预告登记, Civil Code
art. 221; 25 % investment, Urban Real Estate Administration Law art. 39), `split` (工业项目分割登记),
`renewal` (续期 within the legal maximum, priced with the supply-mode term correction),
`conversion` (between industrial types, or commercial and office; never real estate),
`short_term` (短期利用 of reserve land) and `urban_renewal` (floor-area support).
"""

from landmarket.stock.common import stock_verdict
from landmarket.stock.idle import IdleFacts, assess_idle
from landmarket.stock.renewal import (
    ConversionFacts,
    RenewalFacts,
    UrbanRenewalFacts,
    assess_conversion,
    assess_renewal,
    assess_urban_renewal,
)
from landmarket.stock.short_term import ShortTermFacts, assess_short_term
from landmarket.stock.split import SplitFacts, SplitUnit, assess_split
from landmarket.stock.transfer import PreregistrationFacts, assess_transfer, lapse_date

__all__ = [
    "ConversionFacts",
    "IdleFacts",
    "PreregistrationFacts",
    "RenewalFacts",
    "ShortTermFacts",
    "SplitFacts",
    "SplitUnit",
    "UrbanRenewalFacts",
    "assess_conversion",
    "assess_idle",
    "assess_renewal",
    "assess_short_term",
    "assess_split",
    "assess_transfer",
    "assess_urban_renewal",
    "lapse_date",
    "stock_verdict",
]
