// 消息与通知页面的文字（issue 17）。
export default {
  navMsg: { group: '消息与通知', notices: '通知公告', briefings: '政策宣讲', deliveries: '发送记录', rules: '消息规则' },
  msg: {
    inbox: '消息', readAll: '全部已读', empty: '暂无消息', notices: '通知公告', publish: '发布通知', title: '标题', body: '正文',
    status: '状态', when: '时间', readOf: '已读/人数', receipts: '阅读回执', audience: '通知对象', whole: '整个社区',
    grids: '选择网格', estates: '选择小区', tags: '选择标签（如独居、党员）', publishAt: '定时发布', now: '不填则立即发布',
    alsoSms: '同时发送短信（免打扰时段顺延）', publishedOk: '已发布，送达 {n} 位居民', scheduledOk: '已定时，到时自动发布',
    readSummary: '已读 {read} / 共 {total} 人', unreadList: '未读名单', readList: '已读', name: '姓名', grid: '网格', readAt: '阅读时间',
    costs: '本月条数与费用', thisMonth: '本月', sentCount: '已发送（条）', unitPrice: '单价', cost: '费用', costTotal: '{month} 合计 {total}',
    attach: '附件', print: '打印', attached: '已上传附件：{name}',
    statuses: { published: '已发布', scheduled: '待发布', failed: '未发布', draft: '草稿' },
    deliveries: '发送记录', channel: '渠道', attempts: '尝试', error: '失败原因',
    dstatus: { queued: '排队中', sent: '已发送', delivered: '已送达', failed: '失败', read: '已读', cancelled: '已取消' },
    channels: { inapp: '站内', sms: '短信', voice: '语音电话', wecom: '企业微信' },
    rules: '消息规则', placeholders: '可用占位符', kind: '事件', recipient: '接收人', template: '模板', urgent: '紧急', enabled: '启用',
    recipients: { resident: '当事居民', family: '家属', assignee: '承办人', grid_worker: '网格员', duty: '值班人员', escalation: '上报链', reviewers: '审核人（审核环节）', review_escalation: '审核上一级' },
  },
  brief: {
    title: '政策宣讲', tile: '政策宣讲', create: '发布宣讲', name: '宣讲题目', topic: '主要内容', speaker: '主讲人', startsAt: '时间', place: '地点',
    capacity: '名额（0 为不限）', audience: '宣讲对象', wholeCommunity: '不选则面向整个社区', signups: '报名', attended: '签到', door: '签到',
    counts: '已报名 {signups} 人，已签到 {attended} 人', walkIn: '现场签到', export: '导出签到表', how: '方式', onSite: '现场', signedUp: '已报名',
    createdOk: '已发布，并已通知宣讲对象', signUp: '我要报名', signedOk: '报名成功，开始前一天会提醒您', full: '名额已满', closed: '已截止',
    none: '暂无政策宣讲', back: '返回',
    withdraw: '取消报名', withdrawn: '已取消报名', withdrawAsk: '确定取消报名吗？名额会让给其他居民。',
    cancel: '取消宣讲', cancelled: '已取消', cancelAsk: '请写明取消原因（会通知已报名的居民）', cancelledOk: '宣讲已取消，已报名的居民会收到通知', status: '状态', open: '报名中',
    move: '改期/换地点', endsAt: '结束时间', movedOk: '已修改，已报名的居民会收到通知，宣讲通知也已更新', noChange: '时间和地点都没有改动',
  },
}
