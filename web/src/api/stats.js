// Statistics for the dashboard.
import { get } from './http'

export const overview = (communityId) => get('/api/v1/stats/overview', { community_id: communityId })
// The installation's health: database schema, the nightly backup's outcome, free disk.
export const systemHealth = () => get('/api/v1/system/health')
