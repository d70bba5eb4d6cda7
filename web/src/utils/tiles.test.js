// node --test web/src/utils/ — the tile map's arithmetic.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { project, wgsToGcj, frameFor, tileUrl } from './tiles.js'

test('Web Mercator: the world at zoom 0 is one 256 px tile, the origin at its centre', () => {
  assert.deepEqual(project(0, 0, 0), { x: 128, y: 128 })
  const p = project(36.4574, 116.2984, 17)
  // the tile of the demo community at zoom 17 (OSM's slippy-map formula)
  assert.equal(Math.floor(p.x / 256), Math.floor(((116.2984 + 180) / 360) * 2 ** 17))
})

test('GCJ-02: a position in Beijing moves by a few hundred metres, one abroad not at all', () => {
  const g = wgsToGcj(39.915, 116.404)
  assert.ok(Math.abs(g.lat - 39.91640428) < 1e-6 && Math.abs(g.lon - 116.41024450) < 1e-6, JSON.stringify(g))
  assert.deepEqual(wgsToGcj(48.8566, 2.3522), { lat: 48.8566, lon: 2.3522 })
})

test('the frame shows every point inside the padding, at the largest zoom that fits, with the tiles that cover it', () => {
  const pts = [{ lat: 36.4574, lon: 116.2984 }, { lat: 36.4580, lon: 116.2990 }, { lat: 36.4570, lon: 116.2979 }]
  const f = frameFor(pts, { width: 560, height: 360, pad: 40 })
  for (const p of pts) {
    const q = f.at(p.lat, p.lon)
    assert.ok(q.x >= 40 - 1e-6 && q.x <= 520 + 1e-6 && q.y >= 40 - 1e-6 && q.y <= 320 + 1e-6, JSON.stringify(q))
  }
  assert.ok(!frameFor(pts, { width: 560, height: 360, pad: 40, datum: 'wgs84' }).tiles.some((t) => t.z !== f.z))
  const wider = frameFor(pts.map((p) => ({ lat: p.lat, lon: p.lon })), { width: 280, height: 180, pad: 40 })
  assert.ok(wider.z < f.z, 'a smaller window zooms out')
  // the tiles cover the window exactly: every corner inside one tile
  for (const [x, y] of [[0, 0], [559, 0], [0, 359], [559, 359]])
    assert.ok(f.tiles.some((t) => x >= t.left && x < t.left + 256 && y >= t.top && y < t.top + 256), `corner ${x},${y}`)
  assert.equal(frameFor([], { width: 10, height: 10 }), null)
  assert.equal(frameFor([{ lat: 36.4, lon: 116.3 }], { width: 560, height: 360 }).z, 17)
  // gcj02: the points move on the tiles, by the same shift
  const g = frameFor(pts, { width: 560, height: 360, pad: 40, datum: 'gcj02' })
  assert.ok(g.at(pts[0].lat, pts[0].lon).x >= 40 - 1e-6)
})

test('tile URL from the template', () => {
  assert.equal(tileUrl('https://t.example/{z}/{x}/{y}.png?k=1', { z: 17, x: 3, y: 9 }), 'https://t.example/17/3/9.png?k=1')
})
