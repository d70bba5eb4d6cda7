// Texts of the message pages (issue 17).
export default {
  navMsg: { group: 'Messages', notices: 'Notices', deliveries: 'Delivery log', rules: 'Message rules' },
  msg: {
    inbox: 'Messages', readAll: 'Mark all read', empty: 'No messages', notices: 'Notices', publish: 'Publish notice', title: 'Title', body: 'Text',
    status: 'Status', when: 'Time', readOf: 'Read / recipients', receipts: 'Read receipts', audience: 'Audience', whole: 'Whole community',
    grids: 'Grids', estates: 'Estates', tags: 'Tags', publishAt: 'Publish at', now: 'Empty: publish now',
    alsoSms: 'Also by SMS (held through quiet hours)', publishedOk: 'Published to {n} residents', scheduledOk: 'Scheduled',
    readSummary: '{read} of {total} have read it', unreadList: 'Not read yet', readList: 'Read', name: 'Name', grid: 'Grid', readAt: 'Read at',
    statuses: { published: 'Published', scheduled: 'Scheduled', failed: 'Not published', draft: 'Draft' },
    deliveries: 'Delivery log', channel: 'Channel', attempts: 'Attempts', error: 'Failure',
    dstatus: { queued: 'Queued', sent: 'Sent', delivered: 'Delivered', failed: 'Failed', read: 'Read', cancelled: 'Cancelled' },
    channels: { inapp: 'In-app', sms: 'SMS', voice: 'Voice call', wecom: 'WeCom' },
    rules: 'Message rules', placeholders: 'Placeholders', kind: 'Event', recipient: 'Recipient', template: 'Template', urgent: 'Urgent', enabled: 'On',
    recipients: { resident: 'Resident', family: 'Family', assignee: 'Assignee', grid_worker: 'Grid worker', duty: 'Duty staff', escalation: 'Escalation' },
  },
}
