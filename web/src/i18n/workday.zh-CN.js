// 今日工作 (issue 19): the home page's to-do list per role, and the lists that open on the work.
export default {
  workday: {
    title: '今日工作', refresh: '刷新', pending: '未办结', all: '全部', daysOpen: '已等待(天)', daysOverdue: '逾期(天)',
    overdueVisits: '逾期走访', overdueVisitsHint: '{n} 位居民，{t} 次走访未完成', dueVisits: '本周到期走访',
    openProblems: '未办结诉求', oldest: '最早 {d} 天前', overdueProblems: '逾期诉求', openIncidents: '未处置事件',
    reviews: '待我审核', reviewsOverdue: '审核超时', openAlarms: '未处理报警', allowanceMissing: '80岁以上未领高龄津贴',
    allowanceHint: '符合条件、尚未领取，请主动告知', months: '涉及月份', nothing: '今天没有待办事项',
    seeAll: '查看全部', overdueList: '逾期走访（按居民）', resident: '居民', grid: '网格', due: '最早到期',
    roleTitle: '您的账号可以做什么', canteen: '食堂运营账号：管理幸福食堂的菜单、订餐和配送。',
    volunteer: '志愿者账号：查看和认领志愿服务任务、登记服务时长。', goCanteen: '进入幸福食堂', goVolunteer: '进入志愿服务',
    comingSoon: '该模块正在建设中，上线后可从这里进入。', rateRequired: '请先选择评分',
    sos: { call: '一键拨打', callHint: '号码因报警显示，已记入审计日志；报警处置后重新隐藏。', self: '本人',
      noPhone: '老人和紧急联系人都没有登记电话', estatePlan: '小区示意图', estateMap: '小区地图', noEstate: '老人没有登记小区和楼栋',
      home: '{name}住在这里', alarmHere: '报警', entrance: '小区入口', floors: '{n}层', unsurveyed: '未测绘位置、未画在地图上的楼栋：{names}' },
  },
  hub: { care: '关怀档案', noFile: '未建关怀档案', lastVisit: '上次走访', nextTask: '下次走访', problems: '诉求', apps: '办事申请与津贴', alarms: '手环报警' },
}
