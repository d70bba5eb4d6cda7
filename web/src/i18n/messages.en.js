// Texts of the message pages (issue 17).
export default {
  navMsg: { group: 'Messages', notices: 'Notices', briefings: 'Policy briefings', deliveries: 'Delivery log', rules: 'Message rules' },
  msg: {
    inbox: 'Messages', readAll: 'Mark all read', empty: 'No messages', notices: 'Notices', publish: 'Publish notice', title: 'Title', body: 'Text',
    status: 'Status', when: 'Time', readOf: 'Read / recipients', receipts: 'Read receipts', audience: 'Audience', whole: 'Whole community',
    grids: 'Grids', estates: 'Estates', tags: 'Tags', publishAt: 'Publish at', now: 'Empty: publish now',
    alsoSms: 'Also by SMS (held through quiet hours)', publishedOk: 'Published to {n} residents', scheduledOk: 'Scheduled',
    readSummary: '{read} of {total} have read it', unreadList: 'Not read yet', readList: 'Read', name: 'Name', grid: 'Grid', readAt: 'Read at',
    costs: 'Monthly count and cost', thisMonth: 'This month', sentCount: 'Sent', unitPrice: 'Unit price', cost: 'Cost', costTotal: '{month}: {total} in all',
    attach: 'Attach', print: 'Print', attached: 'Attached: {name}',
    statuses: { published: 'Published', scheduled: 'Scheduled', failed: 'Not published', draft: 'Draft' },
    deliveries: 'Delivery log', channel: 'Channel', attempts: 'Attempts', error: 'Failure',
    dstatus: { queued: 'Queued', sent: 'Sent', delivered: 'Delivered', failed: 'Failed', read: 'Read', cancelled: 'Cancelled' },
    channels: { inapp: 'In-app', sms: 'SMS', voice: 'Voice call', wecom: 'WeCom' },
    rules: 'Message rules', placeholders: 'Placeholders', kind: 'Event', recipient: 'Recipient', template: 'Template', urgent: 'Urgent', enabled: 'On',
    recipients: { resident: 'Resident', family: 'Family', assignee: 'Assignee', grid_worker: 'Grid worker', duty: 'Duty staff', escalation: 'Escalation', reviewers: 'Reviewers of the step', review_escalation: 'Next in the review chain' },
  },
  brief: {
    title: 'Policy briefings', tile: 'Briefings', create: 'New briefing', name: 'Subject', topic: 'Contents', speaker: 'Speaker', startsAt: 'Time', place: 'Place',
    capacity: 'Places (0 = no limit)', audience: 'Audience', wholeCommunity: 'None chosen: the whole community', signups: 'Signed up', attended: 'Attended', door: 'Attendance',
    counts: '{signups} signed up, {attended} attended', walkIn: 'Walk-in', export: 'Attendance sheet', how: 'How', onSite: 'Walk-in', signedUp: 'Signed up',
    createdOk: 'Published; the audience has been notified', signUp: 'Sign up', signedOk: 'Signed up; we will remind you the day before', full: 'Full', closed: 'Closed',
    none: 'No briefings', back: 'Back',
    withdraw: 'Withdraw', withdrawn: 'Withdrawn', withdrawAsk: 'Withdraw your sign-up? The place goes to someone else.',
    cancel: 'Call off', cancelled: 'Called off', cancelAsk: 'Why is it called off? (the residents signed up are told)', cancelledOk: 'Called off; the residents signed up are told', status: 'Status', open: 'Open',
    move: 'Move', endsAt: 'Ends', movedOk: 'Moved; the residents signed up are told and the invitation now says so', noChange: 'Neither the time nor the place changed',
  },
}
