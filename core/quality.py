"""What every rendered image is measured for, so that a user can trust it (or see not to)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ImageQuality(BaseModel):
    alive: bool = Field(description="The unit fires (is above zero somewhere) on this very 8-bit image; false for "
                        "a unit the optimisation could not wake. For `negative`: the unit still fires somewhere.")
    robust_activation: float = Field(description="`activation` averaged over small shifts (up to 1/32 of the "
                                     "image) and rescalings (0.9-1.1): a feature, not a pattern tuned to one grid.")
    high_frequency_share: float = Field(description="Share of the image's spectral energy above half the Nyquist "
                                        "frequency, net of 8-bit rounding: high for pixel noise, low for smooth "
                                        "features, 0 for a flat colour.")
    clipped_share: float = Field(description="Share of 8-bit values at 0 or 255: high means saturated colour.")
