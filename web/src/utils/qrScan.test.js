// The camera QR reader's choice of decoder (node --test; the camera itself is proven by the browser
// test in tests/e2e/canteen.test.mjs, where chromium's fake camera shows a real card's code).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createDecoder, decodePixels } from './qrScan.js'

test('the browser\'s BarcodeDetector is used when it reads QR codes', async () => {
  class BD {
    static async getSupportedFormats() { return ['ean_13', 'qr_code'] }
    constructor(o) { assert.deepEqual(o.formats, ['qr_code']) }
    async detect() { return [{ rawValue: 'CARD-CODE' }] }
  }
  const d = await createDecoder({ BarcodeDetector: BD })
  assert.equal(d.kind, 'native')
  assert.equal(await d.decode({}), 'CARD-CODE')
})

test('jsQR when the detector is missing or reads no QR codes', async () => {
  class NoQr { static async getSupportedFormats() { return ['ean_13'] } }
  assert.equal((await createDecoder({ BarcodeDetector: NoQr })).kind, 'jsqr')
  const d = await createDecoder({ BarcodeDetector: null })
  assert.equal(d.kind, 'jsqr')
  // a blank frame holds no code
  const img = { data: new Uint8ClampedArray(64 * 64 * 4).fill(255), width: 64, height: 64 }
  const ctx = { getImageData: () => img }
  assert.equal(await d.decode({ width: 64, height: 64 }, ctx), null)
  assert.equal(decodePixels((await import('jsqr')).default, img), null)
})
