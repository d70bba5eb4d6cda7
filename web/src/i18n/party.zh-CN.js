// 党建与德治评选页面的文字（issue 16）。
export default {
  dashGov: { card: '德治', models: '光荣榜上的标兵', members: '在册党员', waiting: '待审核的会议纪要' },
  navParty: { party: '党建', branches: '党组织', members: '党员', activities: '三会一课', dues: '党费', elections: '德治评选' },
  party: {
    org: '党组织', kind: '类型', secretary: '书记', members: '党员数', name: '姓名', stage: '类别', joined: '入党日期',
    mobile: '流动党员', status: '状态', activity: '活动', held: '日期', title: '主题', attendance: '出席/请假/缺席',
    approve: '通过', return: '退回', reviewNote: '退回原因', reviewed: '已审核', month: '月份', amount: '应缴（元）',
    paid: '已缴', due: '未缴', pay: '登记缴纳', paidOk: '已登记缴纳', arrears: '欠缴', calendar: '年度日历', missing: '未开展',
    heldCount: '已开展', year: '年份', export: '导出年度台账', empty: '暂无数据',
    file: '档案', duesOwed: '欠缴（月/元）', volunteerHours: '志愿服务时长', hoursN: '{h} 小时',
    photos: '照片', noPhotos: '还没有照片', addPhoto: '上传照片', photoOk: '照片已上传',
  },
  mParty: {
    tile: '党员之家', title: '我的支部', activities: '本支部组织生活', dues: '我的党费', noMember: '您不是在册党员',
    amount: '应缴 {a} 元', paid: '已缴', due: '未缴', hours: '我的志愿服务（已审核）', hoursN: '{h} 小时',
  },
  mVote: {
    tile: '评选投票', title: '德治评选', honours: '光荣榜', noHonours: '暂无', elections: '评选活动', none: '暂无评选',
    stage: '阶段', categories: '评选类别', seats: '名额 {n} 名', nominate: '我要提名', nomineeName: '被提名人姓名',
    reason: '推荐理由', submitNomination: '提交提名', nominatedOk: '提名已提交，等待社区资格审查', candidates: '候选人',
    vote: '投他一票', voted: '已投票', votedOk: '投票成功', myNominations: '我的提名', publicity: '公示期 {from} 至 {until}',
    object: '提出异议', objectPh: '请写明异议的事实', objectOk: '异议已提交，社区将答复', window: '投票时间 {from} 至 {until}',
    result: '评选结果', votes: '{n} 票', elected: '当选', turnout: '投票率 {p}%', invalid: '投票率未达到要求，本次评选无效',
    back: '返回', required: '请填写{f}',
  },
}
