// Routes in history mode (nuanxin answers index.html for any path without an extension, so deep
// links work). Each page group is its own chunk. meta.right names the right a page needs (from
// GET /api/v1/me; a list: any of them); meta.public pages need no session; /m/… are the resident pages.
import { createRouter, createWebHistory } from 'vue-router'
import { useSession, VOL_READ } from '../stores/session'

const Console = () => import('../layouts/ConsoleLayout.vue')
const Mobile = () => import('../layouts/MobileLayout.vue')

const routes = [
  { path: '/login', name: 'login', component: () => import('../views/auth/LoginPage.vue'), meta: { public: true } },
  { path: '/password', name: 'password', component: () => import('../views/auth/PasswordPage.vue') },
  {
    path: '/',
    component: Console,
    children: [
      { path: '', name: 'dashboard', component: () => import('../views/dashboard/DashboardPage.vue'), meta: { title: 'nav.dashboard' } },
      { path: 'residents', name: 'residents', component: () => import('../views/people/ResidentList.vue'), meta: { right: 'people.read', title: 'nav.residents' } },
      { path: 'residents/new', name: 'resident-new', component: () => import('../views/people/ResidentForm.vue'), meta: { right: 'people.write', title: 'res.createTitle' } },
      { path: 'residents/import', name: 'resident-import', component: () => import('../views/people/ImportWizard.vue'), meta: { right: 'people.import', title: 'imp.title' } },
      { path: 'residents/:id(\\d+)', name: 'resident', component: () => import('../views/people/ResidentDetail.vue'), meta: { right: 'people.read', title: 'res.detail' } },
      { path: 'residents/:id(\\d+)/edit', name: 'resident-edit', component: () => import('../views/people/ResidentForm.vue'), meta: { right: 'people.write', title: 'res.editTitle' } },
      { path: 'households', name: 'households', component: () => import('../views/people/HouseholdList.vue'), meta: { right: 'people.read', title: 'nav.households' } },
      { path: 'households/:id(\\d+)', name: 'household', component: () => import('../views/people/HouseholdDetail.vue'), meta: { right: 'people.read', title: 'hh.detail' } },
      { path: 'alarms', name: 'alarms', component: () => import('../views/devices/AlarmCenter.vue'), meta: { right: 'devices.read', title: 'navDev.alarms' } },
      { path: 'alarms/:id(\\d+)', name: 'alarm', component: () => import('../views/devices/AlertDetail.vue'), meta: { right: 'devices.read', title: 'alarm.detail' } },
      { path: 'devices', name: 'devices', component: () => import('../views/devices/DeviceList.vue'), meta: { right: 'devices.read', title: 'navDev.devices' } },
      { path: 'devices/:id(\\d+)', name: 'device', component: () => import('../views/devices/DeviceDetail.vue'), meta: { right: 'devices.read', title: 'dev.detail' } },
      { path: 'devices/webhooks', name: 'webhooks', component: () => import('../views/devices/WebhookList.vue'), meta: { right: 'devices.write', title: 'navDev.webhooks' } },
      { path: 'residents/:id(\\d+)/alert-rules', name: 'alert-rules', component: () => import('../views/devices/AlertRules.vue'), meta: { right: 'devices.read', title: 'navDev.rules' } },
      { path: 'care/files', name: 'care-files', component: () => import('../views/care/CareFileList.vue'), meta: { right: 'care.read', title: 'navCare.files' } },
      { path: 'care/files/:id(\\d+)', name: 'care-file', component: () => import('../views/care/CareFileDetail.vue'), meta: { right: 'care.read', title: 'care.file' } },
      { path: 'care/tasks', name: 'care-tasks', component: () => import('../views/care/TaskList.vue'), meta: { right: 'care.read', title: 'navCare.tasks' } },
      { path: 'care/visits', name: 'care-visits', component: () => import('../views/care/VisitList.vue'), meta: { right: 'care.read', title: 'navCare.visits' } },
      { path: 'care/visits/new', name: 'care-visit-new', component: () => import('../views/care/VisitForm.vue'), meta: { right: 'care.write', title: 'visit.newTitle' } },
      { path: 'care/visits/:id(\\d+)', name: 'care-visit', component: () => import('../views/care/VisitDetail.vue'), meta: { right: 'care.read', title: 'visit.detail' } },
      { path: 'care/problems', name: 'care-problems', component: () => import('../views/care/ProblemList.vue'), meta: { right: 'care.read', title: 'navCare.problems' } },
      { path: 'care/problems/:id(\\d+)', name: 'care-problem', component: () => import('../views/care/ProblemDetail.vue'), meta: { right: 'care.read', title: 'problem.detail' } },
      { path: 'care/stats', name: 'care-stats', component: () => import('../views/care/CareDashboard.vue'), meta: { right: 'care.read', title: 'navCare.dashboard' } },
      { path: 'care/settings', name: 'care-settings', component: () => import('../views/care/CareSettings.vue'), meta: { right: 'care.admin', title: 'navCare.settings' } },
      { path: 'grid/members', name: 'grid-members', component: () => import('../views/grid/MemberList.vue'), meta: { right: 'care.read', title: 'navCare.members' } },
      { path: 'grid/incidents', name: 'incidents', component: () => import('../views/grid/IncidentList.vue'), meta: { right: 'care.read', title: 'navCare.incidents' } },
      { path: 'grid/incidents/:id(\\d+)', name: 'incident', component: () => import('../views/grid/IncidentDetail.vue'), meta: { right: 'care.read', title: 'incident.detail' } },
      { path: 'services/queue', name: 'service-queue', component: () => import('../views/services/ApplicationList.vue'), props: { queue: true }, meta: { right: 'services.review', title: 'navSvc.queue' } },
      { path: 'services/applications', name: 'service-apps', component: () => import('../views/services/ApplicationList.vue'), meta: { right: 'services.apply', title: 'navSvc.applications' } },
      { path: 'services/applications/:id(\\d+)', name: 'service-app', component: () => import('../views/services/ApplicationDetail.vue'), meta: { title: 'svc.detail' } },
      { path: 'services/apply', name: 'service-apply', component: () => import('../views/services/ApplyPage.vue'), meta: { right: 'services.apply', title: 'navSvc.apply' } },
      { path: 'services/items', name: 'service-items', component: () => import('../views/services/ItemAdmin.vue'), meta: { right: 'services.admin', title: 'navSvc.items' } },
      { path: 'services/allowance', name: 'allowance', component: () => import('../views/services/AllowancePage.vue'), meta: { right: 'people.read', title: 'navSvc.allowance' } },
      { path: 'services/stats', name: 'service-stats', component: () => import('../views/services/ServiceStats.vue'), meta: { right: 'services.review', title: 'navSvc.stats' } },
      { path: 'council', name: 'council-board', component: () => import('../views/council/CouncilBoard.vue'), meta: { right: 'council.manage', title: 'navCouncil.board' } },
      { path: 'council/setup', name: 'council-setup', component: () => import('../views/council/CouncilSetup.vue'), meta: { right: 'council.manage', title: 'navCouncil.setup' } },
      { path: 'council/meetings/:id(\\d+)', name: 'council-meeting', component: () => import('../views/council/MeetingDetail.vue'), meta: { right: 'council.manage', title: 'council.meeting' } },
      { path: 'council/decisions/:id(\\d+)', name: 'council-decision', component: () => import('../views/council/DecisionDetail.vue'), meta: { right: 'council.manage', title: 'council.decision' } },
      { path: 'party', name: 'party', component: () => import('../views/party/PartyPage.vue'), meta: { right: 'party.manage', title: 'navParty.party' } },
      { path: 'elections', name: 'elections', component: () => import('../views/party/ElectionAdmin.vue'), meta: { right: 'elections.manage', title: 'navParty.elections' } },
      { path: 'volunteers/activities', name: 'vol-activities', component: () => import('../views/volunteers/ActivityList.vue'), meta: { right: VOL_READ, title: 'navVol.activities' } },
      { path: 'volunteers/teams', name: 'vol-teams', component: () => import('../views/volunteers/TeamList.vue'), meta: { right: VOL_READ, title: 'navVol.teams' } },
      { path: 'volunteers/hours', name: 'vol-hours', component: () => import('../views/volunteers/HoursLedger.vue'), meta: { right: VOL_READ, title: 'navVol.hours' } },
      { path: 'volunteers/partners', name: 'vol-partners', component: () => import('../views/volunteers/PartnerList.vue'), meta: { right: VOL_READ, title: 'navVol.partners' } },
      { path: 'courses', name: 'courses', component: () => import('../views/courses/CourseList.vue'), meta: { right: 'courses.manage', title: 'navCourses.courses' } },
      { path: 'venues', name: 'venues', component: () => import('../views/courses/VenuePage.vue'), meta: { right: 'venues.manage', title: 'navCourses.venues' } },
      { path: 'volunteers/points', name: 'vol-points', component: () => import('../views/volunteers/PointsBank.vue'), meta: { right: 'volunteers.duty', title: 'navVol.points' } },
      { path: 'canteen', name: 'canteen', component: () => import('../views/canteen/CounterPage.vue'), meta: { right: 'canteen.operate', title: 'navCanteen.counter' } },
      { path: 'canteen/cards', name: 'canteen-cards', component: () => import('../views/canteen/CardList.vue'), meta: { right: 'canteen.operate', title: 'navCanteen.cards' } },
      { path: 'canteen/orders', name: 'canteen-orders', component: () => import('../views/canteen/OrdersPage.vue'), meta: { right: 'canteen.operate', title: 'navCanteen.orders' } },
      { path: 'canteen/menus', name: 'canteen-menus', component: () => import('../views/canteen/MenuWeek.vue'), meta: { right: 'canteen.operate', title: 'navCanteen.menus' } },
      { path: 'canteen/dishes', name: 'canteen-dishes', component: () => import('../views/canteen/DishesPage.vue'), meta: { right: 'canteen.operate', title: 'navCanteen.dishes' } },
      { path: 'canteen/price-rules', name: 'canteen-price-rules', component: () => import('../views/canteen/PriceRules.vue'), meta: { right: 'canteen.operate', title: 'navCanteen.priceRules' } },
      { path: 'canteen/reports', name: 'canteen-reports', component: () => import('../views/canteen/ReportsPage.vue'), meta: { right: 'canteen.operate', title: 'navCanteen.reports' } },
      { path: 'library/books', name: 'lib-books', component: () => import('../views/library/BookList.vue'), meta: { right: 'library.manage', title: 'navLib.books' } },
      { path: 'library/desk', name: 'lib-desk', component: () => import('../views/library/LendingDesk.vue'), meta: { right: 'library.manage', title: 'navLib.desk' } },
      { path: 'library/loans', name: 'lib-loans', component: () => import('../views/library/LoanList.vue'), meta: { right: 'library.manage', title: 'navLib.loans' } },
      { path: 'library/drift', name: 'lib-drift', component: () => import('../views/library/DriftList.vue'), meta: { right: 'library.manage', title: 'navLib.drift' } },
      { path: 'grids', name: 'grids', component: () => import('../views/org/GridList.vue'), meta: { right: 'org.read', title: 'nav.grids' } },
      { path: 'estates', name: 'estates', component: () => import('../views/org/EstateList.vue'), meta: { right: 'org.read', title: 'nav.estates' } },
      { path: 'registry', name: 'registry', component: () => import('../views/registry/RegistryPage.vue'), meta: { right: 'org.read', title: 'nav.registry' } },
      { path: 'system/users', name: 'users', component: () => import('../views/system/UserList.vue'), meta: { right: 'users.admin', title: 'nav.users' } },
      { path: 'system/audit', name: 'audit', component: () => import('../views/system/AuditLog.vue'), meta: { right: 'audit.read', title: 'nav.audit' } },
      { path: 'messages/notices', name: 'notices', component: () => import('../views/messages/NoticeList.vue'), meta: { right: 'notices.write', title: 'navMsg.notices' } },
      { path: 'messages/deliveries', name: 'deliveries', component: () => import('../views/messages/DeliveryLog.vue'), meta: { right: 'messages.admin', title: 'navMsg.deliveries' } },
      { path: 'messages/briefings', name: 'briefings', component: () => import('../views/messages/BriefingList.vue'), meta: { right: 'notices.write', title: 'navMsg.briefings' } },
      { path: 'messages/rules', name: 'message-rules', component: () => import('../views/messages/RuleList.vue'), meta: { right: 'messages.admin', title: 'navMsg.rules' } },
      { path: 'forbidden', name: 'forbidden', component: () => import('../views/ErrorPage.vue'), props: { kind: 'forbidden' } },
    ],
  },
  { path: '/m/login', name: 'm-login', component: () => import('../views/auth/LoginPage.vue'), props: { mobile: true }, meta: { public: true, mobile: true } },
  {
    path: '/m',
    component: Mobile,
    meta: { mobile: true },
    children: [
      { path: '', name: 'm-home', component: () => import('../views/mobile/MyHome.vue') },
      { path: 'problems', name: 'm-problems', component: () => import('../views/mobile/MyProblems.vue') },
      { path: 'problems/:id(\\d+)', name: 'm-problem', component: () => import('../views/mobile/MyProblem.vue') },
      { path: 'services', name: 'm-services', component: () => import('../views/mobile/MyServices.vue') },
      { path: 'services/apply/:item(\\d+)', name: 'm-service-apply', component: () => import('../views/mobile/MyServiceApply.vue') },
      { path: 'services/:id(\\d+)', name: 'm-service-app', component: () => import('../views/mobile/MyServiceApp.vue') },
      { path: 'notices/:id(\\d+)', name: 'm-notice', component: () => import('../views/mobile/MyNotice.vue') },
      { path: 'briefings/:id(\\d+)?', name: 'm-briefings', component: () => import('../views/mobile/MyBriefings.vue') },
      { path: 'notifications', name: 'm-notifications', component: () => import('../views/mobile/MyNotifications.vue') },
      { path: 'alarms', name: 'm-alarms', component: () => import('../views/mobile/MyAlarms.vue') },
      { path: 'council', name: 'm-council', component: () => import('../views/mobile/MyCouncil.vue') },
      { path: 'volunteer', name: 'm-volunteer', component: () => import('../views/mobile/MyVolunteer.vue') },
      { path: 'delivery', name: 'm-delivery', component: () => import('../views/mobile/MyDeliveryRound.vue') },
      { path: 'checkin/:id(\\d+)?', name: 'm-checkin', component: () => import('../views/mobile/MyCheckIn.vue') },
      { path: 'clinic', name: 'm-clinic', component: () => import('../views/mobile/MyClinic.vue') },
      { path: 'incidents', name: 'm-incidents', component: () => import('../views/mobile/MyIncidents.vue') },
      { path: 'elections', name: 'm-elections', component: () => import('../views/mobile/MyElections.vue') },
      { path: 'elections/:id(\\d+)', name: 'm-election', component: () => import('../views/mobile/MyElection.vue') },
      { path: 'courses', name: 'm-courses', component: () => import('../views/mobile/MyCourses.vue') },
      { path: 'rooms', name: 'm-rooms', component: () => import('../views/mobile/MyRooms.vue') },
      { path: 'canteen', name: 'm-canteen', component: () => import('../views/mobile/MyCanteen.vue') },
      { path: 'library', name: 'm-library', component: () => import('../views/mobile/MyLibrary.vue') },
      { path: 'party', name: 'm-party', component: () => import('../views/mobile/MyParty.vue') },
    ],
  },
  { path: '/:rest(.*)*', name: 'notfound', component: () => import('../views/ErrorPage.vue'), props: { kind: 'notfound' }, meta: { public: true } },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: (to, from, saved) => saved || { top: 0 },
})

router.beforeEach(async (to) => {
  const session = useSession()
  if (to.meta.public) {
    if ((to.name === 'login' || to.name === 'm-login') && session.loaded && session.user) return session.home
    return true
  }
  let signedIn
  try {
    signedIn = await session.load()
  } catch {
    signedIn = false // server unreachable: the login page shows the error on submit
  }
  if (!signedIn) {
    const login = to.meta.mobile ? 'm-login' : 'login'
    return { name: login, query: to.fullPath !== '/' && to.fullPath !== '/m' ? { redirect: to.fullPath } : {} }
  }
  if (session.user.must_change_password && to.name !== 'password') return { name: 'password' }
  // A notification's link (/services/applications/N) opened by a resident: their own page for it.
  if (session.isResident && to.name === 'service-app') return { name: 'm-service-app', params: to.params }
  if (session.isResident && !to.meta.mobile && to.name !== 'password') return { name: 'm-home' }
  if (!session.can(to.meta.right)) return { name: 'forbidden' }
  return true
})

/** Any 401 from the API: the session is gone, back to the matching login page. */
export function toLogin() {
  const session = useSession()
  session.clear()
  const cur = router.currentRoute.value
  if (cur.meta.public) return
  router.replace({ name: cur.meta.mobile ? 'm-login' : 'login', query: { redirect: cur.fullPath } })
}
