// Choice lists for selects: the server's fixed vocabularies (labels from i18n) and the community's
// grids, estates and tags (fetched once per page load and shared).
import { ref } from 'vue'
import { listGrids, listEstates, listTags, listAll } from '../api/org'

export const CHOICES = {
  sex: ['male', 'female'],
  relation: ['head', 'spouse', 'child', 'child_in_law', 'grandchild', 'parent', 'grandparent', 'sibling', 'other'],
  residence: ['registered', 'resident', 'floating'],
  care_level: ['none', 'normal', 'key', 'frequent'],
  status: ['active', 'moved_out', 'deceased'],
  id_type: ['id_card', 'passport', 'hk_macau', 'taiwan', 'foreign_permanent'],
  political: ['party_member', 'probationary_member', 'league_member', 'masses', 'other'],
}

const cache = {}
function shared(key, loader) {
  if (!cache[key]) {
    const r = ref([])
    cache[key] = r
    loader().then((v) => { r.value = v }).catch(() => { delete cache[key] })
  }
  return cache[key]
}

export const useGrids = () => shared('grids', () => listAll(listGrids))
export const useEstates = () => shared('estates', () => listAll(listEstates))
export const useTags = () => shared('tags', async () => (await listTags()).items)

/** Forget cached lists (after logout, another user may see other grids). */
export function clearOptions() {
  for (const k of Object.keys(cache)) delete cache[k]
}
