"""An independent VN-2000 ⇄ WGS 84 computation, in plain numpy, to check geo/crs.py against.

Why independent: building a test file by running the importer's own PROJ pipeline forward
would only prove that PROJ inverts itself. Here the chain is written from the published
definitions, with no PROJ code involved:

- EPSG:6960 "VN-2000 to WGS 84 (2)": tX −191.90441429 m, tY −39.30318279 m,
  tZ −111.45032835 m, rX −0.00928836″, rY +0.01975479″, rZ −0.00427372″, dS +0.252906278 ppm,
  method *Coordinate Frame rotation* (EPSG 9607, IOGP Guidance Note 7-2 §4.4.3):
  ``X_wgs = T + (1 + dS) · R · X_vn`` with ``R = [[1, rZ, −rY], [−rZ, 1, rX], [rY, −rX, 1]]``;
- both datums on the WGS 84 ellipsoid (a 6 378 137 m, 1/f 298.257223563);
- TM-3: transverse Mercator, k0 0.9999, false easting 500 000 m, evaluated with Krüger's
  series to order n⁴ (Karney 2011), sub-millimetre within a 3° zone.
"""

from __future__ import annotations

import numpy as np

A = 6378137.0
F = 1 / 298.257223563
E2 = F * (2 - F)
ARCSEC = np.pi / (180 * 3600)
T = np.array([-191.90441429, -39.30318279, -111.45032835])
RX, RY, RZ = (-0.00928836 * ARCSEC, 0.01975479 * ARCSEC, -0.00427372 * ARCSEC)
DS = 0.252906278e-6
R_CF = np.array([[1.0, RZ, -RY], [-RZ, 1.0, RX], [RY, -RX, 1.0]])


def geodetic_to_ecef(lon, lat, h=0.0) -> np.ndarray:
    lam, phi = np.radians(lon), np.radians(lat)
    n = A / np.sqrt(1 - E2 * np.sin(phi) ** 2)
    return np.stack(
        [
            (n + h) * np.cos(phi) * np.cos(lam),
            (n + h) * np.cos(phi) * np.sin(lam),
            (n * (1 - E2) + h) * np.sin(phi),
        ]
    )


def ecef_to_geodetic(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y, z = xyz
    lam = np.arctan2(y, x)
    p = np.hypot(x, y)
    phi = np.arctan2(z, p * (1 - E2))
    for _ in range(10):  # converges to < 1e-12 rad in 3–4 steps
        n = A / np.sqrt(1 - E2 * np.sin(phi) ** 2)
        h = p / np.cos(phi) - n
        phi = np.arctan2(z, p * (1 - E2 * n / (n + h)))
    return np.degrees(lam), np.degrees(phi)


def vn2000_to_wgs84(lon, lat):
    """Geographic VN-2000 → WGS 84 with EPSG:6960 (coordinate frame convention)."""
    xyz = geodetic_to_ecef(np.atleast_1d(lon).astype(float), np.atleast_1d(lat).astype(float))
    return ecef_to_geodetic(T[:, None] + (1 + DS) * (R_CF @ xyz))


def wgs84_to_vn2000(lon, lat):
    """The exact inverse of ``vn2000_to_wgs84`` (solve the 3×3 system)."""
    xyz = geodetic_to_ecef(np.atleast_1d(lon).astype(float), np.atleast_1d(lat).astype(float))
    return ecef_to_geodetic(np.linalg.solve((1 + DS) * R_CF, xyz - T[:, None]))


def tm_forward(lon, lat, lon0: float, k0: float = 0.9999, fe: float = 500000.0):
    """Transverse Mercator (Krüger n⁴) on the WGS 84 ellipsoid: (easting, northing)."""
    n = F / (2 - F)
    big_a = A / (1 + n) * (1 + n**2 / 4 + n**4 / 64)
    alpha = [
        n / 2 - 2 * n**2 / 3 + 5 * n**3 / 16 + 41 * n**4 / 180,
        13 * n**2 / 48 - 3 * n**3 / 5 + 557 * n**4 / 1440,
        61 * n**3 / 240 - 103 * n**4 / 140,
        49561 * n**4 / 161280,
    ]
    e = np.sqrt(E2)
    phi = np.radians(np.asarray(lat, float))
    dlam = np.radians(np.asarray(lon, float) - lon0)
    t = np.sinh(np.arctanh(np.sin(phi)) - e * np.arctanh(e * np.sin(phi)))
    xi_p = np.arctan2(t, np.cos(dlam))
    eta_p = np.arctanh(np.sin(dlam) / np.sqrt(1 + t**2))
    xi, eta = xi_p.copy(), eta_p.copy()
    for j, a_j in enumerate(alpha, start=1):
        xi += a_j * np.sin(2 * j * xi_p) * np.cosh(2 * j * eta_p)
        eta += a_j * np.cos(2 * j * xi_p) * np.sinh(2 * j * eta_p)
    return fe + k0 * big_a * eta, k0 * big_a * xi


def wgs84_to_tm3(lon, lat, lon0: float):
    """WGS 84 lon/lat → VN-2000 TM-3 easting/northing for the zone's central meridian."""
    vlon, vlat = wgs84_to_vn2000(lon, lat)
    return tm_forward(vlon, vlat, lon0)


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance (pyproj.Geod: only used to measure, never to transform)."""
    from pyproj import Geod

    args = [np.atleast_1d(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2)]
    return np.asarray(Geod(ellps="WGS84").inv(*args)[2])
