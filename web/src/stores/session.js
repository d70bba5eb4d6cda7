// The signed-in user: who they are, what they may do, their preferences (长辈模式, language) and,
// for street officers and administrators, the community they are looking at.
import { defineStore } from 'pinia'
import * as auth from '../api/auth'
import { setCsrf } from '../api/http'
import { setLanguage } from '../i18n'
import { clearOptions } from '../utils/options'
import { clearCareOptions } from '../utils/care'
import { serialSaver } from '../utils/serialSave'

// The preference saves, one after the other; only the newest answer is applied (utils/serialSave.js).
const savePrefs = serialSaver((prefs) => auth.setPreferences(prefs))

export const STAFF_HOME = '/'
export const RESIDENT_HOME = '/m'
/** The volunteer pages' right: the volunteer duty, or a street officer's read-only oversight. */
export const VOL_READ = ['volunteers.duty', 'volunteers.oversee']

export const useSession = defineStore('session', {
  state: () => ({
    user: null,
    loaded: false,
    communityId: Number(sessionStorage.getItem('nx.community')) || null,
  }),
  getters: {
    /** The server's rights, plus one the client derives: a street officer's read-only oversight of
     *  the volunteer pages of the street (the server's vol_oversees) is 'volunteers.oversee'. */
    rights: (s) => {
      const r = new Set(s.user?.rights || [])
      if (s.user?.role === 'street' && s.user?.scope === 'street') r.add('volunteers.oversee')
      return r
    },
    isResident: (s) => s.user?.role === 'resident' || s.user?.role === 'family',
    elderMode: (s) => !!s.user?.preferences?.elder_mode,
    /** Street officers and administrators look at one or all communities. */
    canSwitchCommunity: (s) => s.user?.scope === 'street' || s.user?.scope === 'all',
    home() { return this.isResident ? RESIDENT_HOME : STAFF_HOME },
  },
  actions: {
    /** right: a name, or a list of names any one of which will do. */
    can(right) { return !right || (Array.isArray(right) ? right.some((r) => this.rights.has(r)) : this.rights.has(right)) },
    /** Load /me once per page load; false when not signed in. */
    async load(force = false) {
      if (this.loaded && !force) return !!this.user
      try {
        this.apply(await auth.me())
      } catch (e) {
        if (e.status !== 401) throw e
        this.user = null
      }
      this.loaded = true
      return !!this.user
    },
    apply(user) {
      this.user = user
      setCsrf(user?.csrf_token)
      const lang = user?.preferences?.language
      if (lang) setLanguage(lang)
    },
    async login(username, password) {
      const res = await auth.login(username, password)
      setCsrf(res.csrf_token)
      this.loaded = false
      await this.load(true)
      return res
    },
    async logout() {
      try { await auth.logout() } catch { /* the session may already be gone */ }
      this.clear()
    },
    clear() {
      clearOptions()
      clearCareOptions()
      this.user = null
      this.loaded = true
      setCsrf('')
    },
    // Saves reach the server in the order they were made, and only the newest one's answer is
    // applied: a late answer to an earlier language switch must not switch the page back.
    async savePreferences(prefs) {
      const { value: saved, newest } = await savePrefs(prefs)
      if (!newest) return saved
      if (this.user) this.user.preferences = saved
      if (saved?.language) setLanguage(saved.language)
      return saved
    },
    setCommunity(id) {
      this.communityId = id || null
      if (id) sessionStorage.setItem('nx.community', String(id))
      else sessionStorage.removeItem('nx.community')
    },
  },
})
