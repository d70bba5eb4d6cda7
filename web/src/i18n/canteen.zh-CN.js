// 幸福食堂 (issue 12): the canteen staff's console pages (收银台, 饭卡, 订餐与送餐, 报表), the
// dashboard card and the resident pages (本周菜单, 订餐, 我的订餐, 饭卡).
export default {
  navCanteen: { group: '幸福食堂', dishes: '菜品', priceRules: '价格规则', counter: '收银台', cards: '饭卡', orders: '订餐与送餐', menus: '菜单', reports: '报表' },
  canteen: {
    meals: { breakfast: '早餐', lunch: '午餐', dinner: '晚餐' },
    camera: '摄像头扫码', cameraStop: '关闭摄像头', cameraHint: '把饭卡二维码对准摄像头', cameraFailed: '无法打开摄像头：{msg}（可用扫码枪或输入卡码）', scan: '扫码或刷卡', scanHint: '扫描饭卡二维码（扫码枪扫完自动回车）', search: '姓名 / 拼音 / 首字母',
    searchHint: '查找就餐人', guest: '散客（原价现金）', diner: '就餐人', card: '饭卡', noCard: '无饭卡', balance: '余额',
    age: '{n} 岁', pay: '应付', listPrice: '原价', subsidy: '补贴', funding: '补贴来源', rule: '适用规则',
    why: '价格依据', sell: '收款', sold: '已收款', soldOut: '售罄', method: '付款方式',
    methods: { card: '饭卡', cash: '现金', wechat: '微信', alipay: '支付宝' },
    online: '在线', offline: '离线：收款先存在本机，联网后自动补传', queued: '待补传 {n} 笔', sync: '立即补传',
    synced: '已补传 {n} 笔', refused: '{n} 笔被拒绝，请人工处理：{msg}', queuedOne: '网络不通，已存入待补传（{ref}）',
    retryDup: '该笔已记录过（重复提交只记一次）', noMenu: '今天这一餐还没有菜单', pickDiner: '请先扫码或查找就餐人',
    recent: '本班收款', cardUnknown: '未找到该饭卡', subsidised: '今日该餐已享受补贴，按原价收费',
    // cards
    newCard: '办卡', residentId: '居民', number: '卡号', status: '状态', statuses: { active: '有效', replaced: '已补办', closed: '已注销' },
    topUp: '充值', refundAction: '退款', replace: '挂失补卡', replaceConfirm: '补办新卡后旧卡立即失效，余额转入新卡。确定？',
    amount: '金额（元）', note: '备注', receipt: '收据号 {no}', print: '打印饭卡', txns: '流水', saved: '已保存',
    amountBad: '请输入大于 0 的金额', pickResident: '选择居民',
    // orders and delivery
    orders: '订餐', delivery: '送餐', deliveryList: '送餐单', day: '日期', meal: '餐次', item: '菜品', quantity: '份数',
    orderStatus: { ordered: '已预订', cancelled: '已取消', delivered: '已送达', missed: '未送达', served: '已就餐' },
    deliver: '送达', miss: '未送达', missNote: '未送达原因（如：不在家、敲门无人应）', route: '顺序', place: '地址',
    grid: '网格', allStatus: '全部状态', onlyDelivery: '只看送餐', deliveredAt: '送达时间', createdAt: '下单时间',
    // menus
    week: '本周菜单', published: '已发布', draft: '未发布', portions: '份数', soldCount: '已售', markSoldOut: '标记售罄',
    unmarkSoldOut: '取消售罄', classes: { basic: '一元吃饱', better: '两元吃好', none: '单点' },
    marks: { soft: '软烂', low_salt: '低盐', diabetic: '糖友' }, rating: '评分 {r}（{n} 人）',
    // reports
    daily: '日报', monthly: '月度补贴申报', exportXlsx: '导出 Excel', takings: '收款', byMethod: '按付款方式',
    byMeal: '按餐次', byFunding: '按补贴来源', byRule: '按规则', byDay: '按日', mealsCount: '餐数', paid: '实收',
    topups: '充值', month: '月份', rows: '明细 {n} 行', sales: '销售流水', reverse: '冲正', reverseReason: '冲正原因',
    reversed: '已冲正', reversal: '冲正记录', chainOk: '流水哈希链校验通过（{n} 条）', chainBad: '流水哈希链在第 {seq} 条断开：记录被改动过',
    verify: '校验流水',
    // editing: dishes, menus, price rules
    dishName: '菜名', category: '类别', categories: { staple: '主食', main: '主菜', side: '配菜', soup: '汤', set: '套餐', drink: '饮品' },
    priceYuan: '价格（元）', halfPrice: '半份价', halfHint: '不设则无半份', nutrition: '营养说明', allergens: '过敏提示',
    markLabel: '标记', newDish: '新增菜品', editDish: '修改菜品', edit: '修改', dishActive: '在用', dishInactive: '已停用', yuanBad: '请输入金额（元），最多两位小数',
    newMenu: '新建菜单', editMenu: '编辑菜单', noItems: '还没有菜单项，请添加菜品或套餐', pickDish: '选择菜品', setName: '套餐名称',
    unlimited: '不限', addDish: '添加菜品', addSet: '添加套餐', removeItem: '移除', thisWeek: '本周', nextWeek: '下周',
    newRule: '新增规则', editRule: '编辑规则', ruleName: '规则名称', who: '适用对象', payYuan: '应付（元）', validity: '有效期',
    disable: '停用', disableConfirm: '停用规则“{name}”？已有的销售记录不受影响。', override: '个人特批（居民 {id}）',
    ageFrom: '{n} 岁以上', ageBand: '{a}–{b} 岁', everyone: '所有就餐人', ageRange: '年龄段', tags: '标签', careLevel: '关爱等级',
    residence: '居住情况', perSlot: '每餐补贴次数', reason: '特批理由',
    fundings: { street: '街道补贴', charity: '慈善捐助', canteen: '食堂让利' },
    tagCodes: { living_alone: '独居', solitary: '孤寡', low_income: '低保', extreme_poverty: '特困', disabled: '残疾', veteran: '优抚' },
    careLevels: { none: '无', normal: '一般', key: '重点', frequent: '高频' },
    residences: { registered: '户籍', resident: '常住', floating: '流动' },
    // dashboard
    dashTitle: '幸福食堂', mealsToday: '今日就餐', ordersToday: '今日订餐', subsidyMonth: '本月补贴', cardsCount: '饭卡',
    openCounter: '打开收银台',
  },
  mCanteen: {
    tile: '幸福食堂', title: '幸福食堂', week: '本周菜单', order: '订餐', ordered: '已订', cancel: '取消订餐',
    cancelConfirm: '确定取消这份订餐？', mine: '我的订餐', myCard: '我的饭卡', balance: '余额', delivery: '送餐上门',
    orderedOk: '订餐成功', cancelledOk: '已取消', noMenu: '本周还没有发布菜单', closed: '已截止', soldOut: '售罄',
    rate: '评价', rateOk: '谢谢您的评价', rated: '已评价 {r} 星', pay: '您付 {p}', forElder: '为 {name} 订餐',
    noOrders: '还没有订餐', showQr: '出示饭卡二维码', topUp: '为饭卡充值', topUpOk: '充值成功',
  },
  mDelivery: {
    title: '今日送餐', tile: '送餐', count: '共 {n} 户', none: '今天没有分派给您的送餐', deliver: '已送达', miss: '未送达',
    missed: '未送达', reasonHint: '请写明原因（如敲门无人应答）', doneAt: '{t} 送达', doneOk: '已登记送达', missedOk: '已登记未送达',
  },
}
