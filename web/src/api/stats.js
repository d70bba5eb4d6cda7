// Statistics for the dashboard.
import { get } from './http'

export const overview = (communityId) => get('/api/v1/stats/overview', { community_id: communityId })
