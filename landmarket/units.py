"""Area units of the Chinese land system and the precision areas are compared at.

numpy is imported inside the functions: the policy loader reads these constants, and
`landmarket policy show` should not pay for numpy (see tests/test_cli_startup.py).
"""

from __future__ import annotations

M2_PER_MU = 10000.0 / 15.0  # 1 mu = 666.667 m²; 15 mu = 1 ha exactly
M2_PER_HA = 10000.0
AREA_DECIMALS = 2  # areas are reported, and thresholds compared, to 0.01 m²


def m2_to_mu(m2):
    """Square metres to mu."""
    import numpy as np

    return (
        np.asarray(m2, dtype=float) * 15.0 / 10000.0 if np.ndim(m2) else float(m2) * 15.0 / 10000.0
    )


def mu_to_m2(mu):
    """Mu to square metres."""
    import numpy as np

    return np.asarray(mu, dtype=float) * M2_PER_MU if np.ndim(mu) else float(mu) * M2_PER_MU


def m2_to_ha(m2):
    """Square metres to hectares."""
    import numpy as np

    return np.asarray(m2, dtype=float) / M2_PER_HA if np.ndim(m2) else float(m2) / M2_PER_HA


def ha_to_m2(ha):
    """Hectares to square metres."""
    import numpy as np

    return np.asarray(ha, dtype=float) * M2_PER_HA if np.ndim(ha) else float(ha) * M2_PER_HA


def round_area(m2):
    """Round an area to the reporting precision (0.01 m²) so thresholds compare what users see."""
    import numpy as np

    return (
        np.round(np.asarray(m2, dtype=float), AREA_DECIMALS)
        if np.ndim(m2)
        else round(float(m2), AREA_DECIMALS)
    )


def area_summary(m2: float) -> dict[str, float]:
    """One area in m² (0.01), mu (0.0001) and ha (0.0001), as reports show it."""
    m2 = round_area(m2)
    return {"m2": m2, "mu": round(m2_to_mu(m2), 4), "ha": round(m2_to_ha(m2), 4)}
