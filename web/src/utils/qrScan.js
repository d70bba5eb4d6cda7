// Reading a QR code with the camera (the canteen counter's meal cards). The camera is opened with
// getUserMedia (the back camera where there is one) into a <video>; a few times a second the current
// frame is drawn into a canvas and decoded. The decoder is the browser's own BarcodeDetector where it
// exists and reads qr_code (Chrome on Android and macOS, Safari), else jsQR (npm `jsqr`, loaded on
// first use so that pages without a camera never download it). The first code read is handed to
// onCode and the camera is closed; stop() closes it earlier. Nothing is sent anywhere from here.

/** A decoder for canvas frames: { kind: 'native' | 'jsqr', decode(canvas, ctx) → Promise<string|null> }.
 * opts.BarcodeDetector (tests) replaces the browser's; pass null to force jsQR. */
export async function createDecoder(opts = {}) {
  const BD = 'BarcodeDetector' in opts ? opts.BarcodeDetector : globalThis.BarcodeDetector
  if (BD) {
    try {
      const formats = BD.getSupportedFormats ? await BD.getSupportedFormats() : ['qr_code']
      if (formats.includes('qr_code')) {
        const det = new BD({ formats: ['qr_code'] })
        return { kind: 'native', decode: async (canvas) => (await det.detect(canvas))[0]?.rawValue || null }
      }
    } catch { /* an unusable detector: fall back to jsQR */ }
  }
  const jsQR = (await import('jsqr')).default
  return { kind: 'jsqr', decode: async (canvas, ctx) => decodePixels(jsQR, ctx.getImageData(0, 0, canvas.width, canvas.height)) }
}

/** The text of the QR code in an RGBA image ({data, width, height}), or null. */
export function decodePixels(jsQR, img) {
  const r = jsQR(img.data, img.width, img.height, { inversionAttempts: 'attemptBoth' })
  return r && r.data ? r.data : null
}

/** Open the camera into video and read until a code is found: onCode(text) is called once, then the
 * camera is closed. Resolves to { stop, kind } once the camera runs; rejects when it cannot be opened
 * (no camera, permission refused, not a secure page). */
export async function startQrCamera(video, onCode, { interval = 150, decoderOpts } = {}) {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('getUserMedia unavailable')
  const decoder = await createDecoder(decoderOpts)
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false })
  let stopped = false
  let timer = null
  const canvas = document.createElement('canvas')
  const ctx = canvas.getContext('2d', { willReadFrequently: true })
  const stop = () => {
    stopped = true
    clearTimeout(timer)
    for (const t of stream.getTracks()) t.stop()
    video.srcObject = null
  }
  video.srcObject = stream
  video.muted = true
  video.setAttribute('playsinline', '')
  await video.play().catch(() => {})
  const tick = async () => {
    if (stopped) return
    const w = video.videoWidth, h = video.videoHeight
    if (w && h) {
      const scale = Math.min(1, 800 / w)
      canvas.width = Math.round(w * scale)
      canvas.height = Math.round(h * scale)
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height)
      let text = null
      try { text = await decoder.decode(canvas, ctx) } catch { /* a bad frame */ }
      if (text && !stopped) {
        stop()
        onCode(text)
        return
      }
    }
    if (!stopped) timer = setTimeout(tick, interval)
  }
  tick()
  return { stop, kind: decoder.kind }
}
