// The alarm sound, generated with WebAudio (no audio file): three two-tone pulses, loud enough to be
// heard across a duty room. Browsers keep an AudioContext suspended until the page gets a click or
// key press, so unlock() is called on the first gesture; until then play() reports 'blocked'.
let ctx = null

function context() {
  if (ctx) return ctx
  const AC = typeof window !== 'undefined' && (window.AudioContext || window.webkitAudioContext)
  if (!AC) return null
  ctx = new AC()
  return ctx
}

/** Resume the audio context (call from a user gesture). */
export function unlock() {
  const c = context()
  if (c && c.state === 'suspended') c.resume().catch(() => {})
}

/** Play the pattern once: 'played', 'blocked' (no gesture yet) or 'unsupported'. */
export function play() {
  const c = context()
  if (!c) return 'unsupported'
  if (c.state === 'suspended') c.resume().catch(() => {})
  if (c.state !== 'running') return 'blocked'
  const t0 = c.currentTime + 0.02
  const gain = c.createGain()
  gain.connect(c.destination)
  gain.gain.setValueAtTime(0, t0)
  for (let i = 0; i < 3; i++) {
    const t = t0 + i * 0.5
    for (const [f, dt] of [[880, 0], [660, 0.22]]) {
      const o = c.createOscillator()
      o.type = 'square'
      o.frequency.setValueAtTime(f, t + dt)
      o.connect(gain)
      o.start(t + dt)
      o.stop(t + dt + 0.2)
    }
    gain.gain.setValueAtTime(0.18, t)
    gain.gain.setValueAtTime(0.18, t + 0.42)
    gain.gain.linearRampToValueAtTime(0, t + 0.45)
  }
  return 'played'
}
