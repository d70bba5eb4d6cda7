// The arithmetic of a small XYZ tile map (the SOS screen's and the family view's real map, when a
// tile server is configured: GET /api/v1/me → map): Web Mercator pixels at a zoom, the zoom and
// window that show a set of points, the tiles that cover the window, and the shift of WGS-84
// positions (what the wristbands and the surveyed buildings carry) to GCJ-02, the datum the
// mainland's map providers (AMap, Tencent) draw their tiles in. No state, no DOM: node --test runs it.

const TILE = 256
const MAX_ZOOM = 18
const MIN_ZOOM = 3

/** World pixel {x, y} of a position (degrees) at zoom z (Web Mercator, 256 px tiles). */
export function project(lat, lon, z) {
  const size = TILE * 2 ** z
  const s = Math.sin((Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180)
  return { x: ((lon + 180) / 360) * size, y: (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * size }
}

// GCJ-02 (国测局坐标): the published transform of positions inside China; outside, unchanged.
const A = 6378245.0
const EE = 0.00669342162296594323
const outOfChina = (lat, lon) => lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271
function dLat(x, y) {
  let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x))
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3
  r += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3
  r += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3
  return r
}
function dLon(x, y) {
  let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x))
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3
  r += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3
  r += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3
  return r
}
/** A WGS-84 position (degrees) in GCJ-02: {lat, lon}. */
export function wgsToGcj(lat, lon) {
  if (outOfChina(lat, lon)) return { lat, lon }
  const rad = (lat / 180) * Math.PI
  const m = 1 - EE * Math.sin(rad) ** 2
  const sm = Math.sqrt(m)
  return {
    lat: lat + (dLat(lon - 105, lat - 35) * 180) / (((A * (1 - EE)) / (m * sm)) * Math.PI),
    lon: lon + (dLon(lon - 105, lat - 35) * 180) / ((A / sm) * Math.cos(rad) * Math.PI),
  }
}

/**
 * The window of width × height px that shows every point (WGS-84 degrees, [{lat, lon}]) with pad px
 * to spare, at the largest zoom up to 18 (a single point: zoom 17). datum 'gcj02' shifts the points
 * first. Returns {z, left, top, at(lat, lon) → {x, y} in the window, tiles: [{z, x, y, left, top}]}
 * (x wrapped around the world, rows beyond the poles left out), or null for no points.
 */
export function frameFor(points, { width, height, pad = 48, datum = 'wgs84' }) {
  const pts = points.filter((p) => Number.isFinite(p?.lat) && Number.isFinite(p?.lon))
  if (!pts.length) return null
  const shift = (lat, lon) => (datum === 'gcj02' ? wgsToGcj(lat, lon) : { lat, lon })
  const geo = pts.map((p) => shift(p.lat, p.lon))
  let z = pts.length === 1 ? 17 : MAX_ZOOM
  let px
  for (;; z--) {
    px = geo.map((p) => project(p.lat, p.lon, z))
    const w = Math.max(...px.map((p) => p.x)) - Math.min(...px.map((p) => p.x))
    const h = Math.max(...px.map((p) => p.y)) - Math.min(...px.map((p) => p.y))
    if ((w <= width - 2 * pad && h <= height - 2 * pad) || z === MIN_ZOOM) break
  }
  const cx = (Math.max(...px.map((p) => p.x)) + Math.min(...px.map((p) => p.x))) / 2
  const cy = (Math.max(...px.map((p) => p.y)) + Math.min(...px.map((p) => p.y))) / 2
  const left = cx - width / 2, top = cy - height / 2
  const n = 2 ** z
  const tiles = []
  for (let ty = Math.floor(top / TILE); ty <= Math.floor((top + height - 1) / TILE); ty++) {
    if (ty < 0 || ty >= n) continue
    for (let tx = Math.floor(left / TILE); tx <= Math.floor((left + width - 1) / TILE); tx++)
      tiles.push({ z, x: ((tx % n) + n) % n, y: ty, left: tx * TILE - left, top: ty * TILE - top })
  }
  const at = (lat, lon) => {
    const g = shift(lat, lon)
    const p = project(g.lat, g.lon, z)
    return { x: p.x - left, y: p.y - top }
  }
  return { z, left, top, at, tiles, size: TILE }
}

/** The URL of tile t from an XYZ template ("https://host/{z}/{x}/{y}.png"). */
export function tileUrl(template, t) {
  return template.replace('{z}', String(t.z)).replace('{x}', String(t.x)).replace('{y}', String(t.y))
}
