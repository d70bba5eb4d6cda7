// The live alarm picture of the staff console, shared by the banner (in the layout), the alarm
// centre and the dashboard: the active alerts (open or acknowledged) in scope, kept current by the
// server's event stream (EventSource on /api/v1/events/stream with the session cookie). The browser
// reconnects by itself after a network error (with Last-Event-ID); when the stream is closed for
// good (server restart answered with an error) it is opened again with a growing delay, and the list
// is read again after every (re)connection so nothing missed in between stays hidden.
// Urgent alerts (SOS, fall) still open raise the banner and sound the alarm every few seconds until
// somebody acknowledges them, unless muted (the choice is kept in localStorage).
import { defineStore } from 'pinia'
import { listAlerts, getAlert, STREAM_URL, STREAM_EVENTS } from '../api/devices'
import { applyAlertEvent, isUrgent } from '../utils/devices'
import { play, unlock } from '../utils/alarmSound'

const MUTE_KEY = 'nx.alarm.muted'
const REPEAT_MS = 6000

let es = null
let retryTimer = null
let soundTimer = null
let retryDelay = 1000
let gestureHooked = false

export const useAlarms = defineStore('alarms', {
  state: () => ({
    active: [],
    loaded: false,
    status: 'idle', // idle | connecting | open | retrying
    muted: localStorage.getItem(MUTE_KEY) === '1',
    sound: 'idle', // the last play(): played | blocked | unsupported
    beeps: 0,
    seq: 0, // bumped on every event: pages showing history reload on it
    lastEvent: null,
  }),
  getters: {
    /** Open SOS and fall alarms, newest first: what the banner shows. */
    urgent: (s) => s.active.filter((a) => a.state === 'open' && isUrgent(a.kind)),
    openCount: (s) => s.active.filter((a) => a.state === 'open').length,
  },
  actions: {
    start() {
      if (es || retryTimer) return
      if (!gestureHooked) {
        gestureHooked = true
        const on = () => { unlock(); if (this.sound === 'blocked') this.ring() }
        window.addEventListener('pointerdown', on, { capture: true })
        window.addEventListener('keydown', on, { capture: true })
      }
      this.connect()
      this.refresh()
      if (!soundTimer) soundTimer = setInterval(() => this.ring(), REPEAT_MS)
    },
    stop() {
      if (es) { es.close(); es = null }
      clearTimeout(retryTimer); retryTimer = null
      clearInterval(soundTimer); soundTimer = null
      this.status = 'idle'
      this.active = []
      this.loaded = false
    },
    connect() {
      this.status = 'connecting'
      es = new EventSource(STREAM_URL, { withCredentials: true })
      es.onopen = () => {
        const again = retryDelay > 1000 || this.loaded
        this.status = 'open'
        retryDelay = 1000
        if (again) this.refresh()
      }
      es.onerror = () => {
        if (!es) return
        if (es.readyState === EventSource.CLOSED) {
          es.close(); es = null
          this.status = 'retrying'
          retryTimer = setTimeout(() => { retryTimer = null; this.connect() }, retryDelay)
          retryDelay = Math.min(retryDelay * 2, 30000)
        } else {
          this.status = 'retrying' // the browser reconnects by itself
        }
      }
      for (const name of STREAM_EVENTS) es.addEventListener(name, (ev) => this.onEvent(name, ev))
    },
    async refresh() {
      try {
        const res = await listAlerts({ state: 'active', limit: 200 })
        this.active = res.items || []
        this.loaded = true
        this.ring()
      } catch { /* kept; the next event or reconnection reads again */ }
    },
    async onEvent(name, ev) {
      let data
      try { data = JSON.parse(ev.data) } catch { return }
      this.seq++
      this.lastEvent = { name, ...data }
      if (!data.alert_id) return
      try {
        const a = await getAlert(data.alert_id)
        const before = this.active.some((x) => x.id === a.id && x.state === 'open')
        this.update(a)
        if (!before && a.state === 'open' && isUrgent(a.kind)) this.ring()
      } catch { /* out of scope or gone */ }
    },
    /** Put a changed alert (from an event or a handling answer) in the list. */
    update(alert) {
      this.active = applyAlertEvent(this.active, alert)
    },
    /** Sound the alarm once if an urgent alert is open and the sound is on. */
    ring() {
      if (this.muted || !this.urgent.length) return
      this.sound = play()
      if (this.sound === 'played') this.beeps++
    },
    setMuted(on) {
      this.muted = !!on
      localStorage.setItem(MUTE_KEY, on ? '1' : '0')
      if (!on) { unlock(); this.ring() }
    },
  },
})
