// Organisation: streets, communities, grids, estates, buildings, rooms, tags.
import { get, post, patch } from './http'

export const listCommunities = (query) => get('/api/v1/communities', query)
export const listGrids = (query) => get('/api/v1/grids', query)
export const listEstates = (query) => get('/api/v1/estates', query)
export const getEstate = (id) => get(`/api/v1/estates/${id}`)
export const listBuildings = (query) => get('/api/v1/buildings', query)
export const listRooms = (buildingId, query) => get(`/api/v1/buildings/${buildingId}/rooms`, query)
export const listTags = () => get('/api/v1/tags', { limit: 200 })
export const createGrid = (body) => post('/api/v1/grids', body)
export const updateGrid = (id, body) => patch(`/api/v1/grids/${id}`, body)
export const listStreets = (query) => get('/api/v1/streets', query)
export const listShops = (query) => get('/api/v1/shops', query)
export const listTagPage = (query) => get('/api/v1/tags', query)

/** The collection path of an org kind (rooms are created under their building). */
const PATHS = { street: 'streets', community: 'communities', grid: 'grids', estate: 'estates', building: 'buildings',
  room: 'rooms', shop: 'shops', tag: 'tags' }
export const createOrg = (kind, body, parentId) =>
  post(kind === 'room' ? `/api/v1/buildings/${parentId}/rooms` : `/api/v1/${PATHS[kind]}`, body)
export const updateOrg = (kind, id, body) => patch(`/api/v1/${PATHS[kind]}/${id}`, body)

/** Every page of a list (for select boxes over small collections). */
export async function listAll(fn, query = {}) {
  const items = []
  let cursor
  for (let i = 0; i < 20; i++) {
    const page = await fn({ ...query, limit: 200, cursor })
    items.push(...page.items)
    if (!page.next_cursor) break
    cursor = page.next_cursor
  }
  return items
}
