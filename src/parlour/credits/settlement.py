"""Settlement arithmetic (C4, L8, S3): plain integers in, plain integers out.

Credits are whole numbers. A charge is a percentage of the price, and the platform's share
a percentage of the charge; both round half up, and the expert gets the charge less the
share, so the three parts always add up to the price exactly."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Split:
    charged: int  # taken from the client's escrow
    to_expert: int  # paid to the expert
    to_platform: int  # kept by the platform
    returned: int  # back to the client's wallet

    def __post_init__(self) -> None:
        assert self.to_expert + self.to_platform == self.charged
        assert min(self.charged, self.to_expert, self.to_platform, self.returned) >= 0


def percent_of(amount: int, percent: int) -> int:
    """``percent`` % of ``amount``, rounded half up, in whole credits."""
    return (amount * percent + 50) // 100


def split(price: int, charge_percent: int, platform_share_percent: int) -> Split:
    if price < 0 or not 0 <= charge_percent <= 100 or not 0 <= platform_share_percent <= 100:
        raise ValueError("price must be >= 0 and percentages within 0..100")
    charged = percent_of(price, charge_percent)
    to_platform = percent_of(charged, platform_share_percent)
    return Split(
        charged=charged,
        to_expert=charged - to_platform,
        to_platform=to_platform,
        returned=price - charged,
    )
