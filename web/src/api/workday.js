// The worker's day (issue 19): what the home page's 今日工作 reads beyond the module clients — the
// allowance outreach list (residents over 80 not receiving 高龄津贴).
import { get } from './http'

export const allowanceMissing = (communityId) => get('/api/v1/allowance/missing', { community_id: communityId })
