// Today's work (issue 19): the home page's to-do list per role, and the lists that open on the work.
export default {
  workday: {
    title: "Today's work", refresh: 'Refresh', pending: 'Not done', all: 'All', daysOpen: 'Days open', daysOverdue: 'Days overdue',
    overdueVisits: 'Overdue visits', overdueVisitsHint: '{n} residents, {t} visits not done', dueVisits: 'Visits due this week',
    openProblems: 'Open problems', oldest: 'oldest {d} days', overdueProblems: 'Overdue problems', openIncidents: 'Open incidents',
    reviews: 'Awaiting my review', reviewsOverdue: 'Reviews past limit', openAlarms: 'Open alarms', allowanceMissing: 'Over 80 without allowance',
    allowanceHint: 'Eligible and not receiving: tell them', months: 'Months', nothing: 'Nothing to do today',
    seeAll: 'See all', overdueList: 'Overdue visits (by resident)', resident: 'Resident', grid: 'Grid', due: 'First due',
    roleTitle: 'What your account can do', canteen: 'Canteen account: menus, orders and deliveries of the community canteen.',
    volunteer: 'Volunteer account: see and take volunteer tasks, record hours.', goCanteen: 'Open the canteen', goVolunteer: 'Open volunteering',
    comingSoon: 'This module is being built; it will open from here.', rateRequired: 'Choose a rating first',
    sos: { call: 'Call now', callHint: 'Numbers shown because of the alarm and recorded in the audit log; masked again once it is resolved.', self: 'self',
      noPhone: 'Neither the elder nor a contact has a phone on record', estatePlan: 'Estate plan', estateMap: 'Estate map', noEstate: 'No estate or building on record',
      home: '{name} lives here', alarmHere: 'Alarm', entrance: 'Entrance', floors: '{n} floors', unsurveyed: 'Buildings not surveyed yet, so not on the map: {names}' }
  },
  hub: { care: 'Care file', noFile: 'No care file', lastVisit: 'Last visit', nextTask: 'Next visit', problems: 'Problems', apps: 'Applications and allowance', alarms: 'Wristband alarms' },
}
