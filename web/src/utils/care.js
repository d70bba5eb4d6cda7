// Shared bits of the care pages: the care vocabularies (categories, levels, roles … are data on the
// server, fetched once per page load), the people a task, problem or incident can be given to (grid
// members linked to an account, plus the signed-in user: staff cannot list accounts), tag colours
// for the statuses, and today's date in Asia/Shanghai.
import { ref } from 'vue'
import { listVocab, listMembers } from '../api/care'

const cache = {}
function shared(key, loader) {
  if (!cache[key]) {
    const r = ref([])
    cache[key] = r
    loader().then((v) => { r.value = v }).catch(() => { delete cache[key] })
  }
  return cache[key]
}

/** Active entries of one vocabulary kind: care_category, care_level, member_role, incident_category, problem_category. */
export const useVocab = (kind) => shared(`vocab:${kind}`, async () => (await listVocab(kind)).items.filter((v) => v.active))

/** Accounts that work can be given to: grid members with a user account (one entry per account). */
export const useAssignees = (me) => shared('assignees', async () => {
  const seen = new Map()
  if (me?.id) seen.set(me.id, { user_id: me.id, name: me.display_name, grid_name: '' })
  for (const m of (await listMembers()).items) {
    if (m.user_id && m.active && !seen.has(m.user_id)) seen.set(m.user_id, { user_id: m.user_id, name: m.name, grid_name: m.grid_name, member_id: m.id })
  }
  return [...seen.values()]
})

/** Grid members (all roles), for dispatching incidents. */
export const useMembers = () => shared('members', async () => (await listMembers()).items.filter((m) => m.active))

export function clearCareOptions() {
  for (const k of Object.keys(cache)) delete cache[k]
}

export const TAG = {
  file: { active: 'success', closed: 'info' },
  task: { open: 'warning', done: 'success', cancelled: 'info' },
  problem: { open: 'danger', assigned: 'warning', in_progress: 'primary', resolved: 'success', closed: 'info' },
  incident: { reported: 'danger', dispatched: 'warning', handled: 'primary', closed: 'info' },
  urgency: { normal: 'info', urgent: 'warning', critical: 'danger' },
}

/** Today in Asia/Shanghai as YYYY-MM-DD (the server's calendar), whatever the browser's zone. */
export function today(offsetDays = 0) {
  const d = new Date(Date.now() + 8 * 3600e3 + offsetDays * 86400e3)
  return d.toISOString().slice(0, 10)
}

/** The current month in Asia/Shanghai as YYYY-MM. */
export const thisMonth = () => today().slice(0, 7)

/** 0.6048 → "60.5%". */
export const pct = (x) => (typeof x === 'number' ? `${(x * 100).toFixed(1)}%` : '—')
