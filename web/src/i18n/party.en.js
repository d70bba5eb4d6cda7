// Party building and model-resident elections (issue 16).
export default {
  dashGov: { card: 'Governance', models: 'Model residents', members: 'Party members', waiting: 'Minutes to review' },
  navParty: { party: 'Party', branches: 'Organisations', members: 'Members', activities: 'Meetings', dues: 'Dues', elections: 'Selections' },
  party: {
    org: 'Organisation', kind: 'Kind', secretary: 'Secretary', members: 'Members', name: 'Name', stage: 'Stage', joined: 'Joined',
    mobile: 'Mobile', status: 'Status', activity: 'Activity', held: 'Date', title: 'Title', attendance: 'Present/leave/absent',
    approve: 'Approve', return: 'Return', reviewNote: 'Reason', reviewed: 'Reviewed', month: 'Month', amount: 'Due (yuan)',
    paid: 'Paid', due: 'Unpaid', pay: 'Record payment', paidOk: 'Payment recorded', arrears: 'Arrears', calendar: 'Calendar', missing: 'Missing',
    heldCount: 'Held', year: 'Year', export: 'Export statement', empty: 'Nothing yet',
    file: 'File', duesOwed: 'Unpaid (months/yuan)', volunteerHours: 'Volunteer hours', hoursN: '{h} hours',
    photos: 'Photos', noPhotos: 'No photos yet', addPhoto: 'Upload a photo', photoOk: 'Photo uploaded',
  },
  mParty: {
    tile: 'My branch', title: 'My branch', activities: 'Branch meetings', dues: 'My dues', noMember: 'You are not a party member',
    amount: 'Due {a} yuan', paid: 'Paid', due: 'Unpaid', hours: 'My volunteer service (approved)', hoursN: '{h} h',
  },
  mVote: {
    tile: 'Selections', title: 'Model residents', honours: 'Honour list', noHonours: 'None yet', elections: 'Selections', none: 'No selections',
    stage: 'Stage', categories: 'Categories', seats: '{n} seats', nominate: 'Nominate', nomineeName: "Nominee's name",
    reason: 'Why', submitNomination: 'Submit', nominatedOk: 'Nomination submitted for review', candidates: 'Candidates',
    vote: 'Vote', voted: 'Voted', votedOk: 'Vote recorded', myNominations: 'My nominations', publicity: 'Public notice {from} to {until}',
    object: 'Object', objectPh: 'The facts of your objection', objectOk: 'Objection sent', window: 'Voting {from} to {until}',
    result: 'Result', votes: '{n} votes', elected: 'Elected', turnout: 'Turnout {p}%', invalid: 'Turnout too low: no result',
    back: 'Back', required: '{f} is required',
  },
}
