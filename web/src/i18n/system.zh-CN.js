// The installation's health card on the home page (GET /api/v1/system/health, issue #20).
export default {
  sysHealth: {
    card: '系统状态', backup: '自动备份', ok: '正常', stale: '超过 36 小时没有成功备份', failed: '最近一次备份失败',
    never: '还没有自动备份', last: '最近成功', disk: '磁盘可用', schema: '数据库结构', behind: '待升级',
    hint: '请联系信息员：sudo -u nuanxin nuanxin doctor',
  },
}
